//! The control API is for local tools and pages of this server only: no CORS header at all,
//! preflights refused, a foreign `Origin` refused with 403. The API keeps its CORS.

use serde_json::json;
use threadtail_devserver::client::Response;

use crate::common::*;

/// No `access-control-*` header at all.
fn assert_no_cors(r: &Response) {
    let cors: Vec<_> = r
        .headers
        .iter()
        .filter(|(k, _)| k.starts_with("access-control-"))
        .collect();
    assert!(
        cors.is_empty(),
        "CORS headers on a control response: {cors:?}"
    );
}

const EVIL: &str = "http://evil.example";

#[tokio::test]
async fn foreign_origins_are_refused() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    // The log now holds a token.
    srv.api(&format!("/v1/sessions/{sid}/threads")).await;
    let port = srv.addr.port();
    let other_port = format!("http://127.0.0.1:{}", port.wrapping_add(1).max(1));
    let other_localhost = format!("http://localhost:{}", port.wrapping_add(1).max(1));
    let https_self = format!("https://127.0.0.1:{port}");
    for origin in [
        EVIL,
        "null",
        other_port.as_str(),
        other_localhost.as_str(),
        https_self.as_str(),
    ] {
        let r = srv
            .req("GET", "/_control/requests", &[("Origin", origin)], None)
            .await;
        assert_error(&r, 403, "permission_error");
        assert_no_cors(&r);
        assert!(!r.text().contains(TOKEN), "{origin}: {}", r.text());
    }

    // A "simple" POST (no preflight in a browser) changes nothing.
    let r = srv
        .req(
            "POST",
            "/_control/reset",
            &[("Origin", EVIL), ("Content-Type", "text/plain")],
            Some(b"{}"),
        )
        .await;
    assert_error(&r, 403, "permission_error");
    assert_no_cors(&r);
    let r = srv
        .req(
            "POST",
            "/_control/faults",
            &[("Origin", EVIL), ("Content-Type", "text/plain")],
            Some(br#"{"count":1,"status":503}"#),
        )
        .await;
    assert_error(&r, 403, "permission_error");
    let sessions = srv.req("GET", "/_control/sessions", &[], None).await.json();
    assert_eq!(sessions["sessions"][0]["threads"], json!([tid]));
    let faults = srv.req("GET", "/_control/faults", &[], None).await.json();
    assert_eq!(faults["armed"], 0);
    let log = srv.req("GET", "/_control/requests", &[], None).await.json();
    assert_eq!(log.as_array().unwrap().len(), 1);

    // Unknown control routes too.
    let r = srv
        .req("GET", "/_control/nope", &[("Origin", EVIL)], None)
        .await;
    assert_error(&r, 403, "permission_error");
    assert_no_cors(&r);
}

#[tokio::test]
async fn preflights_get_no_grants() {
    let srv = start().await;
    let own = format!("http://127.0.0.1:{}", srv.addr.port());
    for origin in [EVIL, own.as_str()] {
        for path in ["/_control/requests", "/_control/reset", "/_control"] {
            let r = srv
                .req(
                    "OPTIONS",
                    path,
                    &[
                        ("Origin", origin),
                        ("Access-Control-Request-Method", "POST"),
                        ("Access-Control-Request-Headers", "content-type"),
                        ("Access-Control-Request-Private-Network", "true"),
                    ],
                    None,
                )
                .await;
            assert_error(&r, 403, "permission_error");
            assert_no_cors(&r);
        }
    }
}

#[tokio::test]
async fn no_origin_and_own_origins_work() {
    let srv = start().await;
    let (sid, _) = srv.session_thread().await;
    srv.api(&format!("/v1/sessions/{sid}/threads")).await;
    let port = srv.addr.port();
    let own = [
        None,
        Some(format!("http://127.0.0.1:{port}")),
        Some(format!("http://localhost:{port}")),
        Some(format!("http://[::1]:{port}")),
    ];
    for origin in &own {
        let headers: Vec<(&str, &str)> = origin.iter().map(|o| ("Origin", o.as_str())).collect();
        let r = srv.req("GET", "/_control/requests", &headers, None).await;
        assert_eq!(r.status, 200, "{origin:?}: {}", r.text());
        assert_no_cors(&r);
        let log = r.json();
        assert_eq!(
            log[0]["headers"]["authorization"],
            format!("Bearer {TOKEN}"),
            "{origin:?}"
        );
    }
    // The origin of the Host the request was addressed to (a host name, a proxy).
    let r = srv
        .req(
            "GET",
            "/_control/status",
            &[
                ("Host", "devbox.test:4321"),
                ("Origin", "http://devbox.test:4321"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = srv
        .req(
            "GET",
            "/_control/status",
            &[
                ("Host", "devbox.test:4321"),
                ("Origin", "http://devbox.test:4322"),
            ],
            None,
        )
        .await;
    assert_error(&r, 403, "permission_error");

    // POST /_control/reset: without Origin, and from a page of this server.
    for origin in &own {
        srv.session().await;
        let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        headers.extend(origin.iter().map(|o| ("Origin", o.as_str())));
        let r = srv
            .req("POST", "/_control/reset", &headers, Some(b"{}"))
            .await;
        assert_eq!(r.status, 200, "{origin:?}: {}", r.text());
        assert_eq!(r.json()["reset"], true);
        assert_no_cors(&r);
        let sessions = srv.req("GET", "/_control/sessions", &[], None).await.json();
        assert_eq!(sessions, json!({"sessions": []}), "{origin:?}");
    }
}

#[tokio::test]
async fn api_routes_keep_their_cors() {
    let dir = std::env::temp_dir().join(format!("ttds-origin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>hi</h1>").unwrap();
    let d = dir.clone();
    let srv = start_with(move |c| {
        c.static_dir = Some(d);
        c.prefixes = vec!["/api/v1/cloud".into()];
    })
    .await;
    let (sid, tid) = srv.session_thread().await;
    let preflight = |path: String| {
        let srv = &srv;
        async move {
            srv.req(
                "OPTIONS",
                &path,
                &[
                    ("Origin", EVIL),
                    ("Access-Control-Request-Method", "GET"),
                    ("Access-Control-Request-Headers", "authorization"),
                    ("Access-Control-Request-Private-Network", "true"),
                ],
                None,
            )
            .await
        }
    };
    for base in ["/v1", "/api/v1/cloud"] {
        for path in [
            format!("{base}/sessions/{sid}/threads/{tid}/stream"),
            format!("{base}/sessions/{sid}/threads"),
        ] {
            let r = preflight(path.clone()).await;
            assert_eq!(r.status, 204, "{path}");
            assert_eq!(r.header("access-control-allow-origin"), Some(EVIL));
            assert_eq!(
                r.header("access-control-allow-headers"),
                Some("authorization")
            );
            assert_eq!(
                r.header("access-control-allow-private-network"),
                Some("true"),
                "{path}"
            );
        }
        let (k, v) = auth();
        let path = format!("{base}/sessions/{sid}/threads");
        let r = srv
            .req("GET", &path, &[(k, &v), ("Origin", EVIL)], None)
            .await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("access-control-allow-origin"), Some(EVIL));
        let path = format!("{base}/sessions/{sid}/threads/{tid}/stream");
        let s = srv.stream(&path, &[("Origin", EVIL)]).await;
        assert_eq!(s.status, 200, "{path}");
        assert_eq!(s.header("access-control-allow-origin"), Some(EVIL));
    }
    // Static files keep CORS, without Private Network Access.
    let r = preflight("/index.html".into()).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some(EVIL));
    assert_eq!(r.header("access-control-allow-private-network"), None);
    let _ = std::fs::remove_dir_all(dir);
}

/// The origin of a test runner's page, allowed with `--control-origin`.
const RUNNER: &str = "http://127.0.0.1:8011";

#[tokio::test]
async fn a_control_origin_is_allowed_with_cors() {
    let srv = start_with(|c| c.control_origins = vec![RUNNER.into()]).await;
    let (sid, _) = srv.session_thread().await;
    srv.api(&format!("/v1/sessions/{sid}/threads")).await;

    // Preflights, for every route the tests drive.
    for (method, path) in [
        ("POST", "/_control/sessions"),
        ("POST", "/_control/faults"),
        ("DELETE", "/_control/faults"),
        ("GET", "/_control/requests"),
        ("POST", "/_control/reset"),
    ] {
        let r = srv
            .req(
                "OPTIONS",
                path,
                &[
                    ("Origin", RUNNER),
                    ("Access-Control-Request-Method", method),
                    ("Access-Control-Request-Headers", "content-type"),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, 204, "{method} {path}: {}", r.text());
        assert_eq!(r.header("access-control-allow-origin"), Some(RUNNER));
        assert_eq!(
            r.header("access-control-allow-methods"),
            Some("GET, POST, DELETE")
        );
        assert_eq!(
            r.header("access-control-allow-headers"),
            Some("content-type")
        );
        assert_eq!(r.header("access-control-max-age"), Some("600"));
        assert_eq!(r.header("vary"), Some("Origin"));
        assert_eq!(r.header("access-control-allow-credentials"), None);
        assert_eq!(r.header("access-control-allow-private-network"), None);
    }

    // Reads, writes, deletes: the answer is readable by that origin.
    let r = srv
        .req("GET", "/_control/requests", &[("Origin", RUNNER)], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(RUNNER));
    assert_eq!(r.header("vary"), Some("Origin"));
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    let body = br#"{"count":1,"status":503}"#;
    let r = srv
        .req(
            "POST",
            "/_control/faults",
            &[("Origin", RUNNER), ("Content-Type", "application/json")],
            Some(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(RUNNER));
    assert_eq!(r.json(), json!({"armed": 1}));
    let r = srv
        .req("DELETE", "/_control/faults", &[("Origin", RUNNER)], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(RUNNER));
    assert_eq!(r.json(), json!({"armed": 0}));
    // Errors are readable too (the test can report them).
    let r = srv
        .req("GET", "/_control/nope", &[("Origin", RUNNER)], None)
        .await;
    assert_error(&r, 404, "not_found_error");
    assert_eq!(r.header("access-control-allow-origin"), Some(RUNNER));
    let r = srv
        .req(
            "POST",
            "/_control/reset",
            &[("Origin", RUNNER), ("Content-Type", "application/json")],
            Some(b"{}"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(RUNNER));
    let sessions = srv.req("GET", "/_control/sessions", &[], None).await.json();
    assert_eq!(sessions, json!({"sessions": []}));

    // Local tools and the server's own pages are unchanged: no CORS header.
    let own = format!("http://127.0.0.1:{}", srv.addr.port());
    for headers in [vec![], vec![("Origin", own.as_str())]] {
        let r = srv.req("GET", "/_control/status", &headers, None).await;
        assert_eq!(r.status, 200, "{headers:?}: {}", r.text());
        assert_no_cors(&r);
    }
}

#[tokio::test]
async fn other_origins_stay_refused_with_a_control_origin() {
    let srv = start_with(|c| c.control_origins = vec![RUNNER.into()]).await;
    let (sid, tid) = srv.session_thread().await;
    srv.api(&format!("/v1/sessions/{sid}/threads")).await;
    for origin in [
        EVIL,
        "null",
        "http://127.0.0.1:8012",
        "http://localhost:8011",
        "https://127.0.0.1:8011",
        "http://127.0.0.1:8011/",
        "http://127.0.0.1:8011, http://evil.example",
    ] {
        let r = srv
            .req("GET", "/_control/requests", &[("Origin", origin)], None)
            .await;
        assert_error(&r, 403, "permission_error");
        assert_no_cors(&r);
        assert!(!r.text().contains(TOKEN), "{origin}: {}", r.text());
        let r = srv
            .req(
                "POST",
                "/_control/reset",
                &[("Origin", origin), ("Content-Type", "text/plain")],
                Some(b"{}"),
            )
            .await;
        assert_error(&r, 403, "permission_error");
        assert_no_cors(&r);
        let r = srv
            .req(
                "OPTIONS",
                "/_control/reset",
                &[
                    ("Origin", origin),
                    ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Headers", "content-type"),
                ],
                None,
            )
            .await;
        assert_error(&r, 403, "permission_error");
        assert_no_cors(&r);
    }
    // Nothing changed.
    let sessions = srv.req("GET", "/_control/sessions", &[], None).await.json();
    assert_eq!(sessions["sessions"][0]["threads"], json!([tid]));
    // A preflight without an Origin is not from the allowed page either.
    let r = srv
        .req(
            "OPTIONS",
            "/_control/reset",
            &[("Access-Control-Request-Method", "POST")],
            None,
        )
        .await;
    assert_error(&r, 403, "permission_error");
    assert_no_cors(&r);
}

#[tokio::test]
async fn the_command_line_option_reaches_the_server() {
    use threadtail_devserver::config::Cli;
    let Cli::Run(mut config) = threadtail_devserver::Config::from_args([
        "--scenario",
        "empty",
        "--control-origin",
        "HTTP://127.0.0.1:8011",
    ])
    .unwrap() else {
        panic!("expected run")
    };
    config.token = TOKEN.into();
    let (addr, handle) = threadtail_devserver::serve(config).await.unwrap();
    let srv = Srv { addr, handle };
    let r = srv
        .req("GET", "/_control/status", &[("Origin", RUNNER)], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(RUNNER));
    let r = srv
        .req("GET", "/_control/status", &[("Origin", EVIL)], None)
        .await;
    assert_error(&r, 403, "permission_error");
    assert_no_cors(&r);
}
