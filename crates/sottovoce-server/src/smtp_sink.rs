//! A minimal SMTP server that accepts every message and hands it over: for the demo (which
//! prints what the shop would have emailed) and the tests (which read it), so neither needs a
//! mail server installed. It speaks enough of RFC 5321 for a client such as `lettre`: the
//! greeting, `EHLO`/`HELO`, `MAIL`, `RCPT`, `DATA` (ended by a lone `.`, dot-unstuffed),
//! `RSET`, `NOOP`, `QUIT`. No TLS, no AUTH, no relaying: bind it to a loopback address.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Starts accepting on `listener`; every message's DATA (CRLF line ends) arrives on the
/// returned channel. Runs until the receiver is dropped and a message finds it gone.
pub fn serve(listener: TcpListener) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                if let Err(e) = session(socket, &tx).await {
                    tracing::debug!(error = %e, "smtp sink session ended");
                }
            });
        }
    });
    rx
}

async fn session(socket: TcpStream, tx: &mpsc::UnboundedSender<String>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sottovoce-sink ESMTP\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sottovoce-sink\r\n250 8BITMIME\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                while let Some(l) = lines.next_line().await? {
                    if l == "." {
                        break;
                    }
                    data.push_str(if l.starts_with("..") { &l[1..] } else { &l });
                    data.push_str("\r\n");
                }
                if tx.send(data).is_err() {
                    write.write_all(b"451 nobody is reading\r\n").await?;
                    return Ok(());
                }
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
    Ok(())
}
