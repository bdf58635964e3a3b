// conns-tokio: the tokio echo server of `make bench-conns`: a current-thread
// runtime (one thread), a task per connection, a 4096-byte buffer per task.
//
//   conns-tokio [--host 127.0.0.1] [--port N]
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn main() {
    let mut host = String::from("127.0.0.1");
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--host" => host = args.next().expect("--host HOST"),
            "--port" => port = args.next().expect("--port N").parse().expect("a port"),
            _ => {
                eprintln!("usage: conns-tokio [--host H] [--port N]");
                std::process::exit(2);
            }
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
    rt.block_on(async move {
        let listener = TcpListener::bind((host.as_str(), port)).await.expect("bind");
        eprintln!("conns-tokio: listening on {}", listener.local_addr().unwrap());
        loop {
            let (mut sock, _) = match listener.accept().await {
                Ok(c) => c,
                Err(_) => continue,
            };
            let _ = sock.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if sock.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
}
