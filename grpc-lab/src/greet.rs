//! `greet.GreetService`: the classic first gRPC service, served beside the user service.

use tonic::{Request, Response, Status};

use crate::greet_pb::greet_service_server::{GreetService as GreetRpc, GreetServiceServer};
use crate::greet_pb::{GreetRequest, GreetResponse};

/// Answers `Greet(name)` with `Hello, <name>!`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GreetService;

impl GreetService {
    /// Wraps the service for tonic's router.
    pub fn into_server(self) -> GreetServiceServer<Self> {
        GreetServiceServer::new(self)
    }
}

/// The greeting for `name` (trimmed).
///
/// # Errors
///
/// INVALID_ARGUMENT when the name is blank: there is nobody to greet.
pub fn greeting(name: &str) -> Result<String, Status> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Status::invalid_argument(
            "Invalid request: name must not be blank.",
        ));
    }
    Ok(format!("Hello, {name}!"))
}

#[tonic::async_trait]
impl GreetRpc for GreetService {
    async fn greet(
        &self,
        request: Request<GreetRequest>,
    ) -> Result<Response<GreetResponse>, Status> {
        let message = greeting(&request.get_ref().name)?;
        Ok(Response::new(GreetResponse { message }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_by_name() {
        assert_eq!(greeting("Ada").unwrap(), "Hello, Ada!");
        assert_eq!(greeting("  Grace ").unwrap(), "Hello, Grace!");
        assert_eq!(
            greeting(" ").unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }
}
