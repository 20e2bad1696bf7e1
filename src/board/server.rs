//! Running the board: bind, TLS when a certificate is given, a cleanup of
//! finished calls past their retention that runs by itself, a graceful
//! stop on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{Board, BoardOptions, StoreError};

/// How the board is served.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address and port.
    pub listen: SocketAddr,
    /// PEM certificate chain and private key: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Also read events from a NATS JetStream broker.
    pub nats: Option<super::nats::NatsOptions>,
}

/// Errors running the board.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address cannot be used.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// The certificate or key cannot be read.
    #[error("TLS certificate {cert} / key {key}: {message}")]
    Tls {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        message: String,
    },
    /// The runtime could not start.
    #[error("{0}")]
    Runtime(String),
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("stopping the board");
}

/// Opens the board and serves until Ctrl-C or SIGTERM. `ready` gets the
/// bound address (port 0 picks a free one).
pub fn serve(options: BoardOptions, serve: ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| ServeError::Runtime(e.to_string()))?;
    rt.block_on(async move {
        let retention_days = options.retention_days;
        let board = Arc::new(Board::open(options)?);
        if retention_days > 0 {
            let b = board.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(3600));
                loop {
                    every.tick().await;
                    let b = b.clone();
                    let removed = tokio::task::spawn_blocking(move || b.store().cleanup(retention_days)).await;
                    match removed {
                        Ok(Ok(n)) if n > 0 => tracing::info!("deleted {n} calls older than {retention_days} days"),
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::error!("cleanup failed: {e}"),
                        Err(e) => tracing::error!("cleanup task failed: {e}"),
                    }
                }
            });
        }
        if let Some(n) = serve.nats.clone() {
            tokio::spawn(super::nats::consume(board.clone(), n));
        }
        let app = super::http::router(board);
        match serve.tls {
            None => {
                let listener = tokio::net::TcpListener::bind(serve.listen).await.map_err(|source| ServeError::Bind { addr: serve.listen, error: source })?;
                let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr: serve.listen, error: source })?;
                ready(addr);
                axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.map_err(|e| ServeError::Runtime(e.to_string()))?;
            }
            Some((cert, key)) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key).await.map_err(|e| ServeError::Tls {
                    cert: cert.clone(),
                    key: key.clone(),
                    message: e.to_string(),
                })?;
                let listener = std::net::TcpListener::bind(serve.listen).map_err(|source| ServeError::Bind { addr: serve.listen, error: source })?;
                let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr: serve.listen, error: source })?;
                listener.set_nonblocking(true).map_err(|source| ServeError::Bind { addr, error: source })?;
                let handle = axum_server::Handle::new();
                let h = handle.clone();
                tokio::spawn(async move {
                    shutdown_signal().await;
                    h.graceful_shutdown(Some(Duration::from_secs(5)));
                });
                ready(addr);
                axum_server::from_tcp_rustls(listener, tls)
                    .map_err(|source| ServeError::Bind { addr, error: source })?
                    .handle(handle)
                    .serve(app.into_make_service())
                    .await
                    .map_err(|source| ServeError::Bind { addr, error: source })?;
            }
        }
        Ok(())
    })
}
