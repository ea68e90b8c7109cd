//! Compiles the protobuf contracts in `../proto` into Rust, with no system `protoc`:
//! `protox` parses the files in pure Rust, `tonic-prost-build` generates the code, and
//! each server's encoded descriptor set is written for server reflection.

use std::path::{Path, PathBuf};

use prost::Message;

const INCLUDE: &str = "../proto";

/// The main server's contracts (UserService and GreetService), then the peer chat's.
const SETS: &[(&str, &[&str])] = &[
    (
        "commlab_descriptor.bin",
        &["user_service.proto", "greet.proto"],
    ),
    ("chat_descriptor.bin", &["chat.proto"]),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for (descriptor_file, protos) in SETS {
        for proto in *protos {
            println!("cargo:rerun-if-changed={INCLUDE}/{proto}");
        }
        let descriptors = protox::compile(*protos, [INCLUDE])?;
        std::fs::write(
            Path::new(&out_dir).join(descriptor_file),
            descriptors.encode_to_vec(),
        )?;
        tonic_prost_build::configure().compile_fds(descriptors)?;
    }
    Ok(())
}
