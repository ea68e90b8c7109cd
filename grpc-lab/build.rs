//! Compiles the protobuf contracts in `../proto` into Rust, with no system `protoc`:
//! `protox` parses the files in pure Rust, `tonic-prost-build` generates the code, and
//! the encoded descriptor set is written for server reflection.

use std::path::PathBuf;

use prost::Message;

const PROTOS: &[&str] = &["user_service.proto"];
const INCLUDE: &str = "../proto";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={INCLUDE}/{proto}");
    }
    let descriptors = protox::compile(PROTOS, [INCLUDE])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("commlab_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
