//! Connections to mail servers: TCP with Nagle's algorithm off (SMTP and IMAP write short
//! commands and wait for the answer; with Nagle and delayed ACKs each would wait ~40 ms), then
//! TLS where the account asks for it, verified against the platform's roots.

use crate::MailError;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use torg_store::MailServer;

/// A byte stream a mail protocol can run over.
pub(crate) trait Stream:
    AsyncRead + AsyncWrite + Unpin + Send + Sync + std::fmt::Debug
{
}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + std::fmt::Debug> Stream for T {}

/// Opens TCP to the server, then TLS when `tls` is set.
pub(crate) async fn connect(server: &MailServer, tls: bool) -> Result<Wire, MailError> {
    let tcp = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        TcpStream::connect((server.host.as_str(), server.port)),
    )
    .await
    .map_err(|_| MailError::Connect(format!("{}:{} did not answer", server.host, server.port)))?
    .map_err(|e| MailError::Connect(format!("{}:{}: {e}", server.host, server.port)))?;
    tcp.set_nodelay(true)
        .map_err(|e| MailError::Connect(e.to_string()))?;
    let peer = tcp
        .peer_addr()
        .map_err(|e| MailError::Connect(e.to_string()))?;
    if !tls {
        return Ok(Wire {
            stream: Box::new(tcp),
            peer,
        });
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    use rustls_platform_verifier::ConfigVerifierExt;
    let config = rustls::ClientConfig::with_platform_verifier()
        .map_err(|e| MailError::Connect(e.to_string()))?;
    let name = rustls::pki_types::ServerName::try_from(server.host.clone())
        .map_err(|e| MailError::Connect(e.to_string()))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| MailError::Connect(format!("TLS with {}: {e}", server.host)))?;
    Ok(Wire {
        stream: Box::new(tls),
        peer,
    })
}

/// An open connection (TCP, or TLS over TCP) and the server's address, which lettre's SMTP
/// client asks for.
#[derive(Debug)]
pub(crate) struct Wire {
    stream: Box<dyn Stream>,
    peer: std::net::SocketAddr,
}

impl AsyncRead for Wire {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl lettre::transport::smtp::client::AsyncTokioStream for Wire {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        Ok(self.peer)
    }
}
