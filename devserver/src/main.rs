//! `threadtail-devserver --addr 127.0.0.1:PORT --token TOKEN [...]` (see `--help`).

use std::io::Write;

use threadtail_devserver::config::{Cli, HELP};
use threadtail_devserver::{serve, Config};

#[tokio::main]
async fn main() {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(Cli::Run(c)) => c,
        Ok(Cli::Help) => {
            print!("{HELP}");
            return;
        }
        Err(e) => {
            eprintln!("threadtail-devserver: {e}");
            std::process::exit(2);
        }
    };
    let bases = config.api_bases();
    let control = if !config.control {
        "off".to_string()
    } else if config.control_origins.is_empty() {
        "at /_control".to_string()
    } else {
        format!(
            "at /_control (also for pages of {})",
            config.control_origins.join(", ")
        )
    };
    let (addr, handle) = match serve(config).await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("threadtail-devserver: cannot listen: {e}");
            std::process::exit(1);
        }
    };
    // Test scripts read this first line to learn the port: print and flush it at once.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on http://{addr}");
    let _ = out.flush();
    drop(out);
    eprintln!(
        "threadtail-devserver: API under {}; control API {control}",
        bases.join(", "),
    );
    stop_signal().await;
    handle.shutdown().await;
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
