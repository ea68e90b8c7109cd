//! `benchmark wire` end to end against in-process servers: every byte the connection
//! counted is annotated, and the second request shows HPACK's dynamic table at work.

use benchmark::Cli;
use benchmark::wire::annotate::{Direction, Layer};
use benchmark::wire::{Tally, run};
use clap::Parser;

#[test]
fn every_counted_byte_is_annotated_and_the_second_request_shrinks() {
    let settings = Cli::parse_from(["benchmark", "wire"]).settings;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(run(&settings)).unwrap();
    let names: Vec<&str> = report
        .exchanges
        .iter()
        .map(|e| e.protocol.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Socket",
            "REST (HTTP/1.1)",
            "REST (h2c)",
            "gRPC",
            "WebSocket"
        ]
    );
    for exchange in &report.exchanges {
        assert_eq!(
            exchange.annotated(Direction::Out),
            exchange.counted_sent,
            "{}",
            exchange.protocol
        );
        assert_eq!(
            exchange.annotated(Direction::In),
            exchange.counted_received,
            "{}",
            exchange.protocol
        );
        assert_eq!(exchange.requests.len(), 2, "{}", exchange.protocol);
    }
    let find = |name: &str| {
        report
            .exchanges
            .iter()
            .find(|e| e.protocol == name)
            .unwrap()
    };
    // Socket: the JSON line each way, its newline the only framing.
    let socket = find("Socket");
    assert_eq!(
        Tally::of(&socket.requests[0].parts, Direction::Out),
        Tally {
            framing: 1,
            headers: 0,
            payload: 33
        }
    );
    // HTTP/2 (REST and gRPC): the second request's header blocks are smaller, because
    // fields the first put in the dynamic table now go by index.
    for name in ["REST (h2c)", "gRPC"] {
        let exchange = find(name);
        let headers = |i: usize, d| Tally::of(&exchange.requests[i].parts, d).headers;
        assert!(
            headers(1, Direction::Out) < headers(0, Direction::Out),
            "{name}"
        );
        assert!(
            headers(1, Direction::In) < headers(0, Direction::In),
            "{name}"
        );
        assert!(
            exchange.requests[1]
                .parts
                .iter()
                .any(|p| p.note.contains("(dynamic table)")),
            "{name}"
        );
        assert!(
            exchange
                .setup
                .iter()
                .any(|p| p.note.starts_with("connection preface")),
            "{name}"
        );
        // Closing is not set-up: the GOAWAY goes apart.
        assert!(!exchange.setup.iter().any(|p| p.note.starts_with("GOAWAY")));
        assert!(
            exchange
                .closing
                .iter()
                .all(|p| p.note.starts_with("GOAWAY")),
            "{name}"
        );
    }
    // gRPC: the length prefix, the protobuf fields, and the trailers.
    let grpc = find("gRPC");
    let parts = &grpc.requests[0].parts;
    assert!(
        parts
            .iter()
            .any(|p| p.layer == Layer::Framing && p.note.starts_with("gRPC message prefix"))
    );
    assert!(
        parts
            .iter()
            .any(|p| p.layer == Layer::Payload && p.note.contains("2: string \"John Doe\""))
    );
    assert!(
        parts
            .iter()
            .any(|p| p.note.starts_with("trailers") && p.note.contains("grpc-status: 0"))
    );
    // WebSocket: the upgrade once, then 6 bytes of framing out (header and mask), 2 in.
    let ws = find("WebSocket");
    assert!(
        ws.setup
            .iter()
            .any(|p| p.note.starts_with("HTTP/1.1 101 Switching Protocols"))
    );
    assert_eq!(Tally::of(&ws.requests[1].parts, Direction::Out).framing, 6);
    assert_eq!(Tally::of(&ws.requests[1].parts, Direction::In).framing, 2);
    // The text and the JSON say the same.
    let text = report.render_text();
    assert!(text.contains("| gRPC |"), "{text}");
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(json["exchanges"].as_array().unwrap().len(), 5);
    assert_eq!(json["exchanges"][0]["counted_sent"], socket.counted_sent);
}

#[test]
fn formats_other_than_table_and_json_are_refused_before_recording() {
    for format in ["csv", "markdown", "html"] {
        let cli = Cli::parse_from(["benchmark", "wire", "--format", format]);
        let error = benchmark::run(cli).unwrap_err().to_string();
        assert!(error.contains("table") && error.contains(format), "{error}");
    }
}

/// `benchmark --tls wire`: every exchange goes over TLS 1.3, every counted byte is
/// annotated (the records' headers, tags and handshake messages besides the protocol),
/// the full handshake shows the server's certificate, and inside the records, decrypted
/// with the session's secrets, each request is the same annotated exchange as in
/// cleartext, byte for byte by layer.
#[test]
fn under_tls_the_records_are_annotated_and_the_exchange_inside_is_the_cleartext_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let record = |args: &[&str]| {
        let settings = Cli::parse_from(args).settings;
        runtime.block_on(run(&settings)).unwrap()
    };
    let clear = record(&["benchmark", "--protocols", "socket,rest,grpc,ws", "wire"]);
    let secure = record(&[
        "benchmark",
        "--tls",
        "--protocols",
        "socket,rest,grpc,ws",
        "wire",
    ]);
    let names: Vec<&str> = secure
        .exchanges
        .iter()
        .map(|e| e.protocol.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Socket",
            "REST (HTTP/1.1)",
            "REST (h2)",
            "gRPC",
            "WebSocket"
        ]
    );
    for (plain, tls) in clear.exchanges.iter().zip(&secure.exchanges) {
        let name = &tls.protocol;
        assert!(plain.tls.is_empty(), "{name}");
        assert_eq!(tls.annotated(Direction::Out), tls.counted_sent, "{name}");
        assert_eq!(tls.annotated(Direction::In), tls.counted_received, "{name}");
        let said = |text: &str| tls.tls.iter().any(|p| p.note.contains(text));
        for message in ["ClientHello", "ServerHello", "Certificate (", "Finished"] {
            assert!(said(message), "{name}: no {message}");
        }
        // Each record costs its 5-byte header, 16-byte tag and inner type.
        assert!(
            tls.tls
                .iter()
                .any(|p| p.layer == Layer::Framing && p.bytes == 22)
        );
        for (a, b) in plain.requests.iter().zip(&tls.requests) {
            for direction in [Direction::Out, Direction::In] {
                let (p, t) = (
                    Tally::of(&a.parts, direction),
                    Tally::of(&b.parts, direction),
                );
                // The gRPC and HTTP/2 requests name the scheme: https is one byte more.
                assert!(t.total().abs_diff(p.total()) <= 2, "{name}: {p:?} vs {t:?}");
                assert_eq!(p.payload, t.payload, "{name}");
            }
        }
        assert!(
            tls.counted_received > plain.counted_received + 500,
            "{name}"
        );
    }
    let text = secure.render_text();
    assert!(text.contains("TLS in all, out/in"), "{text}");
}
