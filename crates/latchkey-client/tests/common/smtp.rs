//! A minimal SMTP receiver on loopback (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no
//! TLS, no auth) so tests read the real emails the server sends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-unstuffed).
    pub raw: String,
}

impl Mail {
    /// The decoded text/plain part (MIME read with `mailparse`, as the server's own email tests do).
    pub fn text(&self) -> String {
        let parsed = mailparse::parse_mail(self.raw.as_bytes()).expect("valid MIME");
        parsed
            .parts()
            .find(|part| part.ctype.mimetype == "text/plain")
            .map(|part| part.get_body().expect("text body"))
            .unwrap_or_else(|| panic!("no text/plain part:\n{}", self.raw))
    }

    /// The first http(s) link with a `token` parameter in the text, and that token.
    pub fn token(&self) -> String {
        let text = self.text();
        let link = text
            .split_whitespace()
            .find(|word| word.starts_with("http") && word.contains("token="))
            .unwrap_or_else(|| panic!("no link with a token in the email:\n{text}"));
        let url = url::Url::parse(link).expect("the link is a URL");
        url.query_pairs().find(|(k, _)| k == "token").map(|(_, v)| v.into_owned()).expect("token parameter")
    }
}

#[derive(Clone, Default)]
pub struct Mailbox {
    pub port: u16,
    messages: Arc<Mutex<Vec<Mail>>>,
}

impl Mailbox {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let mailbox = Mailbox { port: listener.local_addr().unwrap().port(), messages: Arc::default() };
        let messages = Arc::clone(&mailbox.messages);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let messages = Arc::clone(&messages);
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 latchkey-test-sink ESMTP\r\n").await;
                    let (mut from, mut to) = (String::new(), Vec::new());
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-latchkey-test-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                            "HELO" | "RSET" | "NOOP" => b"250 ok\r\n",
                            "MAIL" => {
                                from = angle(&line);
                                b"250 ok\r\n"
                            }
                            "RCPT" => {
                                to.push(angle(&line));
                                b"250 ok\r\n"
                            }
                            "DATA" => {
                                let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                                let mut raw = Vec::new();
                                while let Ok(Some(data)) = lines.next_line().await {
                                    if data == "." {
                                        break;
                                    }
                                    raw.push(data.strip_prefix('.').map(str::to_owned).unwrap_or(data));
                                }
                                let mail = Mail {
                                    from: std::mem::take(&mut from),
                                    to: std::mem::take(&mut to),
                                    raw: raw.join("\r\n"),
                                };
                                messages.lock().unwrap().push(mail);
                                b"250 queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"502 not implemented\r\n",
                        };
                        if write.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        mailbox
    }

    pub fn messages(&self) -> Vec<Mail> {
        self.messages.lock().unwrap().clone()
    }

    /// The first message to `recipient` after the first `skip` messages, waiting up to 15 s.
    pub async fn wait_for(&self, recipient: &str, skip: usize) -> Mail {
        for _ in 0..300 {
            if let Some(mail) =
                self.messages().into_iter().skip(skip).find(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(recipient)))
            {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no email to {recipient} within 15 s; got {:?}", self.messages());
    }
}

fn angle(line: &str) -> String {
    line.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map(|(addr, _)| addr.to_owned()).unwrap_or_default()
}
