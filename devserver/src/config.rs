//! Server configuration and the hand-written command-line parser.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Which scenario the server plays at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A looping multi-agent session (`sess_demo0000000000000000000000000001`).
    Demo,
    /// No session at all; tests create what they need through `/_control`.
    Empty,
}

/// What a stream connection without `Last-Event-ID` receives first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryMode {
    /// The complete history of the thread (or session), then live events.
    Replay,
    /// Live events only.
    Tail,
}

/// How new event ids are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdMode {
    /// `evt_` + the global sequence number as 32 lowercase hex digits: ordering by id is
    /// ordering by creation.
    #[default]
    Seq,
    /// `evt_` + a random UUID v4 (lowercase, hyphenated), drawn from the server's seeded
    /// generator: ids do not sort in creation order.
    Uuid,
}

impl IdMode {
    /// The name used by `--ids` and the control API (`seq`, `uuid`).
    pub fn as_str(self) -> &'static str {
        match self {
            IdMode::Seq => "seq",
            IdMode::Uuid => "uuid",
        }
    }

    /// Parses `seq` or `uuid`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "seq" => Some(IdMode::Seq),
            "uuid" => Some(IdMode::Uuid),
            _ => None,
        }
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind; port 0 picks a free port.
    pub addr: SocketAddr,
    /// The bearer token every API request must carry.
    pub token: String,
    /// Scenario played at start-up.
    pub scenario: Scenario,
    /// Pace multiplier of the scenario (2.0 = twice as fast).
    pub speed: f64,
    /// History behaviour of stream connections without `Last-Event-ID`.
    pub history: HistoryMode,
    /// Interval of `: heartbeat` comments on open streams.
    pub keepalive: Duration,
    /// Directory served at `/` (static files), if any.
    pub static_dir: Option<PathBuf>,
    /// Extra mount points of the API routes besides `/v1` (normalised: leading `/`, no trailing `/`).
    pub prefixes: Vec<String>,
    /// Whether `/_control` is mounted.
    pub control: bool,
    /// Origins of other pages allowed on `/_control` (`--control-origin`, normalised by
    /// [`normalize_origin`]): their requests pass the `Origin` check and get CORS headers, their
    /// preflights are answered. Empty by default: every foreign origin is refused.
    pub control_origins: Vec<String>,
    /// Seed of the scenario's pseudo-random choices (and of the random event ids).
    pub seed: u64,
    /// How new event ids are made (start-up value; `/_control/config` can change it).
    pub ids: IdMode,
    /// Whether stream connections ignore `Last-Event-ID` and replay the whole history (start-up
    /// value; `/_control/config` can change it).
    pub ignore_last_event_id: bool,
    /// Events kept by the live broadcast for slow streams before they lag and re-read from the
    /// store (no command-line option; tests make it small to exercise that path).
    pub broadcast_capacity: usize,
}

/// The token used when `--token` is not given.
pub const DEFAULT_TOKEN: &str = "devtoken";

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: DEFAULT_TOKEN.to_string(),
            scenario: Scenario::Demo,
            speed: 1.0,
            history: HistoryMode::Replay,
            keepalive: Duration::from_millis(15_000),
            static_dir: None,
            prefixes: Vec::new(),
            control: true,
            control_origins: Vec::new(),
            seed: 1,
            ids: IdMode::Seq,
            ignore_last_event_id: false,
            broadcast_capacity: crate::store::DEFAULT_BROADCAST_CAPACITY,
        }
    }
}

/// Result of parsing the command line.
#[derive(Debug)]
pub enum Cli {
    /// Start the server with this configuration.
    Run(Config),
    /// `--help` was asked for.
    Help,
}

/// The text printed by `--help`.
pub const HELP: &str = "\
threadtail-devserver: a reference server for the thread stream API

USAGE:
    threadtail-devserver [OPTIONS]

OPTIONS:
    --addr HOST:PORT       address to bind (default 127.0.0.1:0; port 0 picks a free port)
    --token TOKEN          bearer token required by the API (default devtoken)
    --scenario demo|empty  start-up scenario (default demo)
    --speed FACTOR         pace multiplier of the scenario, > 0 (default 1.0)
    --history replay|tail  replay the full history on connect, or live only (default replay)
    --keepalive-ms N       interval of ': heartbeat' comments in ms, > 0 (default 15000)
    --static DIR           serve the files of DIR at /
    --prefix PATH          extra mount of the API routes (e.g. /api/v1/cloud); repeatable
    --no-control           do not mount the /_control API
    --control-origin ORIGIN
                           also allow the pages of ORIGIN (exact, e.g. http://127.0.0.1:8011)
                           on /_control: CORS headers and preflights for it; repeatable. Every
                           other foreign origin stays refused (403)
    --seed N               seed of the scenario and of uuid event ids (default 1)
    --ids seq|uuid         event ids: evt_ + 32 hex digits of the global sequence (sortable),
                           or evt_ + a random UUID v4 (not sortable) (default seq)
    --ignore-last-event-id ignore Last-Event-ID on stream connections: always replay the whole
                           history, then live (a server that does not resume)
    -h, --help             print this help

The first line on stdout is 'listening on http://ADDR'.
";

impl Config {
    /// Parses command-line arguments (without the program name).
    ///
    /// Accepts `--name value` and `--name=value`.
    pub fn from_args<I, S>(args: I) -> Result<Cli, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut config = Config::default();
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let mut value = |what: &str| -> Result<String, String> {
                match inline.clone() {
                    Some(v) => Ok(v),
                    None => args.next().ok_or_else(|| format!("{name} needs {what}")),
                }
            };
            match name.as_str() {
                "-h" | "--help" => return Ok(Cli::Help),
                "--addr" => {
                    let v = value("an address")?;
                    config.addr = v
                        .parse()
                        .map_err(|_| format!("--addr: bad address '{v}'"))?;
                }
                "--token" => {
                    config.token = value("a token")?;
                    if config.token.is_empty() {
                        return Err("--token must not be empty".into());
                    }
                }
                "--scenario" => {
                    config.scenario = match value("demo|empty")?.as_str() {
                        "demo" => Scenario::Demo,
                        "empty" => Scenario::Empty,
                        other => return Err(format!("--scenario: unknown scenario '{other}'")),
                    }
                }
                "--speed" => {
                    let v = value("a factor")?;
                    let speed: f64 = v
                        .parse()
                        .map_err(|_| format!("--speed: bad number '{v}'"))?;
                    if !(speed.is_finite() && speed > 0.0) {
                        return Err("--speed must be a positive number".into());
                    }
                    config.speed = speed;
                }
                "--history" => {
                    config.history = match value("replay|tail")?.as_str() {
                        "replay" => HistoryMode::Replay,
                        "tail" => HistoryMode::Tail,
                        other => return Err(format!("--history: unknown mode '{other}'")),
                    }
                }
                "--keepalive-ms" => {
                    let v = value("milliseconds")?;
                    let ms: u64 = v
                        .parse()
                        .map_err(|_| format!("--keepalive-ms: bad number '{v}'"))?;
                    if ms == 0 {
                        return Err("--keepalive-ms must be > 0".into());
                    }
                    config.keepalive = Duration::from_millis(ms);
                }
                "--static" => config.static_dir = Some(PathBuf::from(value("a directory")?)),
                "--prefix" => {
                    let p = normalize_prefix(&value("a path")?)?;
                    if !config.prefixes.contains(&p) {
                        config.prefixes.push(p);
                    }
                }
                "--no-control" => config.control = false,
                "--control-origin" => {
                    let o = normalize_origin(&value("an origin")?)?;
                    if !config.control_origins.contains(&o) {
                        config.control_origins.push(o);
                    }
                }
                "--seed" => {
                    let v = value("a number")?;
                    config.seed = v.parse().map_err(|_| format!("--seed: bad number '{v}'"))?;
                }
                "--ids" => {
                    let v = value("seq|uuid")?;
                    config.ids =
                        IdMode::parse(&v).ok_or_else(|| format!("--ids: unknown kind '{v}'"))?;
                }
                "--ignore-last-event-id" => config.ignore_last_event_id = true,
                other => return Err(format!("unknown option '{other}' (see --help)")),
            }
        }
        if !config.control && !config.control_origins.is_empty() {
            return Err("--control-origin needs the control API (drop --no-control)".into());
        }
        Ok(Cli::Run(config))
    }

    /// Whether `origin` (an `Origin` header value) is one of the `--control-origin`s (scheme and
    /// host compared without regard to ASCII case).
    pub fn is_control_origin(&self, origin: &[u8]) -> bool {
        self.control_origins
            .iter()
            .any(|o| o.as_bytes().eq_ignore_ascii_case(origin))
    }

    /// The API mount points: `/v1` and every `--prefix`, without duplicates.
    pub fn api_bases(&self) -> Vec<String> {
        let mut bases = vec!["/v1".to_string()];
        for p in &self.prefixes {
            if !bases.contains(p) {
                bases.push(p.clone());
            }
        }
        bases
    }

    /// Whether `path` is under one of the API mounts (`/v1`, `--prefix`).
    pub fn is_api_path(&self, path: &str) -> bool {
        self.api_bases().iter().any(|b| {
            path == b
                || path
                    .strip_prefix(b.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
    }
}

/// Normalises a mount path: one leading `/`, no trailing `/`, no route syntax.
pub fn normalize_prefix(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_matches('/');
    if trimmed.is_empty() {
        return Err("--prefix must not be empty or '/'".into());
    }
    if trimmed.contains(['{', '}', '*', '?', '#']) || trimmed.starts_with("_control") {
        return Err(format!("--prefix: unsupported path '{raw}'"));
    }
    Ok(format!("/{trimmed}"))
}

/// Checks and normalises an origin given to `--control-origin`: `http://` or `https://`, a host
/// (name, IPv4 or `[IPv6]`), an optional port; nothing else (no path, not even `/`, no user, no
/// query). Scheme and host become lower case and a default port (80 for http, 443 for https) is
/// dropped, as browsers serialise an `Origin` header. `null` and `*` are refused.
pub fn normalize_origin(raw: &str) -> Result<String, String> {
    let bad = |why: &str| {
        format!(
            "--control-origin: '{raw}' is not an origin ({why}); expected scheme://host[:port], \
             e.g. http://127.0.0.1:8011"
        )
    };
    let lower = raw.trim().to_ascii_lowercase();
    let (scheme, authority) = lower.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return Err(bad("the scheme must be http or https")),
    };
    if authority.contains(['/', '?', '#', '@']) {
        return Err(bad("an origin has no path, query or user"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, rest) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
        if addr.is_empty()
            || !addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(bad("bad IPv6 address"));
        }
        let port = match rest {
            "" => None,
            r => Some(r.strip_prefix(':').ok_or_else(|| bad("bad port"))?),
        };
        (&authority[..addr.len() + 2], port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty()
        || !host.starts_with('[')
            && !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(bad("bad host"));
    }
    let port = match port {
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("bad port"))?,
    };
    Ok(if port == default_port {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}:{port}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_option() {
        let cli = Config::from_args([
            "--addr",
            "127.0.0.1:8080",
            "--token=abc",
            "--scenario",
            "empty",
            "--speed",
            "2.5",
            "--history",
            "tail",
            "--keepalive-ms",
            "100",
            "--static",
            "www",
            "--prefix",
            "api/v1/cloud/",
            "--seed",
            "7",
            "--ids=uuid",
            "--ignore-last-event-id",
            "--no-control",
        ])
        .unwrap();
        let Cli::Run(c) = cli else {
            panic!("expected run")
        };
        assert_eq!(c.addr.port(), 8080);
        assert_eq!(c.token, "abc");
        assert_eq!(c.scenario, Scenario::Empty);
        assert_eq!(c.speed, 2.5);
        assert_eq!(c.history, HistoryMode::Tail);
        assert_eq!(c.keepalive, Duration::from_millis(100));
        assert_eq!(c.static_dir, Some(PathBuf::from("www")));
        assert_eq!(c.api_bases(), vec!["/v1", "/api/v1/cloud"]);
        assert!(!c.control);
        assert!(c.control_origins.is_empty());
        assert_eq!(c.seed, 7);
        assert_eq!(c.ids, IdMode::Uuid);
        assert!(c.ignore_last_event_id);
    }

    #[test]
    fn defaults_keep_sequential_ids_and_resume() {
        let Cli::Run(c) = Config::from_args(Vec::<String>::new()).unwrap() else {
            panic!("expected run")
        };
        assert_eq!(c.ids, IdMode::Seq);
        assert!(!c.ignore_last_event_id);
        let Cli::Run(c) = Config::from_args(["--ids", "seq"]).unwrap() else {
            panic!("expected run")
        };
        assert_eq!(c.ids, IdMode::Seq);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Config::from_args(["--speed", "0"]).is_err());
        assert!(Config::from_args(["--speed", "x"]).is_err());
        assert!(Config::from_args(["--bogus"]).is_err());
        assert!(Config::from_args(["--addr"]).is_err());
        assert!(Config::from_args(["--prefix", "/"]).is_err());
        assert!(Config::from_args(["--ids", "random"]).is_err());
        assert!(Config::from_args(["--ids"]).is_err());
        assert!(matches!(Config::from_args(["--help"]), Ok(Cli::Help)));
    }

    #[test]
    fn control_origins() {
        let Cli::Run(c) = Config::from_args([
            "--control-origin",
            "http://127.0.0.1:8011",
            "--control-origin=HTTP://LocalHost:8011",
            "--control-origin",
            "http://127.0.0.1:8011",
            "--control-origin",
            "https://devbox.test:443",
            "--control-origin",
            "http://[::1]:9000",
        ])
        .unwrap() else {
            panic!("expected run")
        };
        assert_eq!(
            c.control_origins,
            [
                "http://127.0.0.1:8011",
                "http://localhost:8011",
                "https://devbox.test",
                "http://[::1]:9000"
            ]
        );
        assert!(c.is_control_origin(b"http://127.0.0.1:8011"));
        assert!(c.is_control_origin(b"http://LOCALHOST:8011"));
        assert!(!c.is_control_origin(b"http://127.0.0.1:8012"));
        assert!(!c.is_control_origin(b"https://127.0.0.1:8011"));
        assert!(!c.is_control_origin(b"http://127.0.0.1:8011/"));
        assert!(!c.is_control_origin(b"null"));
        let Cli::Run(c) = Config::from_args(Vec::<String>::new()).unwrap() else {
            panic!("expected run")
        };
        assert!(c.control_origins.is_empty());
        assert!(!c.is_control_origin(b"http://127.0.0.1:8011"));

        assert_eq!(normalize_origin("http://x:80").unwrap(), "http://x");
        assert_eq!(
            normalize_origin("https://x:8443").unwrap(),
            "https://x:8443"
        );
        for bad in [
            "",
            "*",
            "null",
            "127.0.0.1:8011",
            "ftp://127.0.0.1:8011",
            "http://",
            "http://127.0.0.1:8011/",
            "http://127.0.0.1:8011/x",
            "http://user@127.0.0.1:8011",
            "http://127.0.0.1:8011?x",
            "http://127.0.0.1:port",
            "http://127.0.0.1:0",
            "http://127.0.0.1:70000",
            "http://[::1",
            "http://[]:1",
            "http://*.example",
            "http://a b",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad:?}");
        }
        assert!(Config::from_args(["--control-origin"]).is_err());
        assert!(Config::from_args(["--control-origin", "http://x:1", "--no-control"]).is_err());
    }
}
