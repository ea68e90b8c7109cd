//! `grpc-client demo`: the four RPC patterns, one after another.

use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::show;
use crate::client::GrpcClient;
use crate::pb;

/// The four RPC patterns, one after another, cleaning up after itself.
pub(crate) async fn run(client: &mut GrpcClient) -> anyhow::Result<()> {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    println!("1. Unary: one request, one response");
    let users = client.get_all_users().await?;
    println!("   GetAllUsers -> {} users", users.len());
    let ada = client
        .create_user("Ada Lovelace", &format!("ada-{tag}@example.com"))
        .await?;
    println!("   CreateUser  -> {}", show(&ada));
    let read = client.get_user(&ada.id).await?;
    println!("   GetUser     -> {}", show(&read));

    println!("\n2. Server streaming: one request, a stream of responses");
    let mut stream = client.list_users(0).await?;
    while let Some(user) = stream.next().await {
        println!("   ListUsers   <- {}", show(&user?));
    }

    println!("\n3. Client streaming: a stream of requests, one response");
    let batch = vec![
        pb::CreateUserRequest {
            name: "Alan Turing".into(),
            email: format!("alan-{tag}@example.com"),
        },
        pb::CreateUserRequest {
            name: "".into(),
            email: format!("blank-{tag}@example.com"),
        },
        pb::CreateUserRequest {
            name: "Grace Hopper".into(),
            email: format!("grace-{tag}@example.com"),
        },
    ];
    println!(
        "   CreateUsers -> sending {} requests on one stream",
        batch.len()
    );
    let summary = client.create_users(batch).await?;
    println!(
        "   CreateUsers <- created {}, errors {:?}",
        summary.created_count, summary.errors
    );

    println!("\n4. Bidirectional streaming: both sides stream at once");
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let sender = format!("demo-{tag}");
    let mut room = client.chat_as(&sender, ReceiverStream::new(rx)).await?;
    for text in ["hello", "is anyone here?", "bye"] {
        tx.send(pb::ChatMessage {
            sender: sender.clone(),
            content: text.into(),
            timestamp: String::new(),
        })
        .await?;
        println!("   ChatStream  -> {text}");
        // Wait for our own message to come back through the room.
        while let Some(message) = room.next().await {
            let message = message?;
            println!(
                "   ChatStream  <- [{}] {}: {}",
                message.timestamp, message.sender, message.content
            );
            if message.sender == sender && message.content == text {
                break;
            }
        }
    }
    drop(tx);

    for user in [ada].into_iter().chain(summary.users) {
        client.delete_user(&user.id).await?;
    }
    println!("\nDemo users removed.");
    Ok(())
}
