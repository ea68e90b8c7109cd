//! `--metrics-addr`: calls counted by method path and gRPC status code.

mod common;

use common::start_with;
use grpc_lab::Config;
use lab_kit::metrics::{ServerMetrics, sample};
use user_store::UserStore;

#[tokio::test]
async fn calls_are_counted_by_method_and_grpc_status() {
    let metrics = ServerMetrics::new();
    let mut config = Config::new(UserStore::new());
    config.policy.metrics = Some(grpc_lab::server::metrics(metrics.clone()));
    let server = start_with(config).await;
    let mut client = server.client().await;
    let users = client.get_all_users().await.unwrap();
    let known = users.first().unwrap().id.clone();
    client.get_user(&known).await.unwrap();
    client.get_user("not-a-uuid").await.unwrap_err();
    client.get_user("not-a-uuid-either").await.unwrap_err();
    let text = metrics.render();
    let path = "/users.v1.UserService/GetUser";
    assert!(
        text.contains(&format!(
            r#"commlab_requests_total{{route="{path}",method="POST",status="0"}} 1"#
        )),
        "{text}"
    );
    // NOT_FOUND is 5; two ids, one label set.
    assert!(
        text.contains(&format!(
            r#"commlab_requests_total{{route="{path}",method="POST",status="5"}} 2"#
        )),
        "{text}"
    );
    assert!(text.contains("GetAllUsers"), "{text}");
    assert_eq!(sample(&text, "commlab_requests_in_flight"), Some(0.0));
    assert!(sample(&text, "commlab_open_connections").unwrap() >= 1.0);
    server.shutdown().await;
}
