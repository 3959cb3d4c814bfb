//! `threadtail-devserver`: a reference server for the thread stream API.
//!
//! It streams a thread's (or a session's) events over Server-Sent Events with history replay,
//! `Last-Event-ID` resume, type filters and heartbeats; lists threads and events over REST; and
//! offers a control API (`/_control`) to create sessions, threads and events, inject faults, read
//! the request log and drop connections. See `README.md` for the routes.
//!
//! Start it in-process with [`serve`]:
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! let config = threadtail_devserver::Config {
//!     scenario: threadtail_devserver::Scenario::Empty,
//!     ..Default::default()
//! };
//! let (addr, handle) = threadtail_devserver::serve(config).await?;
//! println!("listening on http://{addr}");
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub mod client;
pub mod config;
pub mod cors;
pub mod errors;
pub mod extract;
pub mod faults;
pub mod routes;
pub mod scenario;
pub mod sse;
pub mod state;
pub mod store;
pub mod stream;
pub mod time;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::middleware;
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Config, HistoryMode, IdMode, Scenario};
pub use state::AppState;
pub use store::Store;

/// Builds the application router for a state.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new();
    let mut api = Router::new();
    for base in state.config.api_bases() {
        api = api.merge(routes::api::routes(&base));
    }
    app = app.merge(api);
    if state.config.control {
        app = app.merge(routes::control::routes());
    }
    let mut app = app
        .fallback(routes::static_files::fallback)
        .method_not_allowed_fallback(|| async {
            errors::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request_error",
                "Method not allowed on this route.",
            )
        })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            routes::api::log_requests,
        ));
    if state.config.control {
        // Around everything under `/_control` (unknown routes and preflights included).
        app = app.layer(middleware::from_fn_with_state(
            state.clone(),
            routes::control::guard,
        ));
    }
    app.layer(middleware::from_fn_with_state(state.clone(), cors::cors))
        .with_state(state)
}

/// A running server. Dropping it stops the server's tasks.
#[derive(Debug)]
pub struct ServerHandle {
    state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    scenario: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The shared state (store, faults, ...), for in-process tests and tools.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Closes every stream and stops the server (waiting at most 5 s for connections to end).
    pub async fn shutdown(mut self) {
        if let Some(s) = self.scenario.take() {
            s.abort();
        }
        self.state.streams.close_all();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    /// Runs until the server task ends (it does not end by itself).
    pub async fn wait(mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(s) = self.scenario.take() {
            s.abort();
        }
        if let Some(s) = self.server.take() {
            s.abort();
        }
    }
}

/// Binds `config.addr`, starts the scenario and serves; returns the bound address.
pub async fn serve(config: Config) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let config = Arc::new(config);
    let state = AppState {
        config: config.clone(),
        store: Arc::new(Store::with_ids(
            config.broadcast_capacity,
            config.ids,
            config.seed,
        )),
        faults: Arc::default(),
        list_faults: Arc::default(),
        streams: Arc::default(),
        requests: Arc::default(),
        settings: Arc::new(state::Settings::from_config(&config)),
        local_addr: Some(addr),
    };
    let scenario = match config.scenario {
        Scenario::Demo => Some(scenario::start(
            state.store.clone(),
            config.seed,
            config.speed,
        )),
        Scenario::Empty => None,
    };
    let app = router(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        // Without TCP_NODELAY, a small write after the response head waits for the peer's
        // delayed ACK (~40 ms on Linux): every cut-and-resume in the tests paid it.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let result = axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = result {
            eprintln!("threadtail-devserver: server error: {e}");
        }
    });
    Ok((
        addr,
        ServerHandle {
            state,
            shutdown: Some(tx),
            server: Some(server),
            scenario,
        },
    ))
}
