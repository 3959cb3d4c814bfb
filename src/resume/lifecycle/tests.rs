use super::*;
use crate::error::ErrorKind;
use crate::resume::MAX_TIMER_MS;

fn opts() -> RetryOptions {
    RetryOptions {
        initial_delay_ms: 1_000,
        max_delay_ms: 30_000,
        max_attempts: None,
        healthy_after_ms: 10_000,
        min_delay_ms: 100,
    }
}

fn status(status: u16, retry_after_ms: Option<u64>) -> Outcome {
    Outcome::Status {
        status,
        api: None,
        retry_after_ms,
    }
}

fn ended(outcome: Outcome, now_ms: f64) -> Input {
    Input::Ended {
        outcome,
        now_ms,
        random: 0.5,
    }
}

fn kinds(commands: &[Command]) -> Vec<String> {
    commands
        .iter()
        .map(|c| match c {
            Command::ResolveToken { refresh } => format!("token({refresh})"),
            Command::Connect => "connect".into(),
            Command::Read => "read".into(),
            Command::Sleep { .. } => "sleep".into(),
            Command::Report(e) => format!("report({})", e.kind()),
            Command::SetState(s) => format!("state({})", s.as_str()),
            Command::Reconnecting { attempt, .. } => format!("reconnecting({attempt})"),
            Command::Stop => "stop".into(),
        })
        .collect()
}

#[test]
fn connects_reads_and_reconnects_after_a_clean_end() {
    let mut m = Lifecycle::new(opts(), false);
    assert_eq!(kinds(&m.handle(Input::Start)), ["connect"]);
    assert_eq!(
        kinds(&m.handle(Input::Opened { now_ms: 0.0 })),
        ["state(open)", "read"]
    );
    let c = m.handle(ended(Outcome::EndOfBody, 50.0));
    assert_eq!(
        kinds(&c),
        ["state(reconnecting)", "reconnecting(1)", "sleep"]
    );
    assert_eq!(kinds(&m.handle(Input::TimerFired)), ["connect"]);
    assert_eq!(
        kinds(&m.handle(Input::Opened { now_ms: 2_000.0 })),
        ["state(open)", "read"]
    );
}

#[test]
fn a_provider_is_asked_before_each_connection_and_refreshed_once_after_a_401() {
    let mut m = Lifecycle::new(opts(), true);
    assert_eq!(kinds(&m.handle(Input::Start)), ["token(false)"]);
    assert_eq!(kinds(&m.handle(Input::TokenResolved(Ok(())))), ["connect"]);
    assert_eq!(
        kinds(&m.handle(ended(status(401, None), 0.0))),
        ["token(true)"]
    );
    assert_eq!(kinds(&m.handle(Input::TokenResolved(Ok(())))), ["connect"]);
    // A second 401 in a row is fatal.
    assert_eq!(
        kinds(&m.handle(ended(status(401, None), 0.0))),
        ["report(authentication)", "state(closed)", "stop"]
    );
    assert!(m.is_closed());
}

#[test]
fn a_failing_provider_backs_off_like_a_failed_connection() {
    let mut m = Lifecycle::new(opts(), true);
    m.handle(Input::Start);
    let c = m.handle(Input::TokenResolved(Err("no session".into())));
    assert_eq!(
        kinds(&c),
        [
            "report(network)",
            "state(reconnecting)",
            "reconnecting(1)",
            "sleep"
        ]
    );
    assert_eq!(kinds(&m.handle(Input::TimerFired)), ["token(false)"]);
}

#[test]
fn fatal_statuses_and_errors_stop_once() {
    for s in [400, 403, 404, 204] {
        let mut m = Lifecycle::new(opts(), false);
        m.handle(Input::Start);
        let c = m.handle(ended(status(s, None), 0.0));
        assert_eq!(kinds(&c)[1..], ["state(closed)", "stop"], "{s}");
        assert!(m.handle(Input::TimerFired).is_empty());
        assert!(m.handle(Input::Start).is_empty());
    }
    let mut m = Lifecycle::new(opts(), false);
    m.handle(Input::Start);
    let c = m.handle(Input::Fatal(Error::InvalidArgument {
        field: "headers",
        message: "bad".into(),
    }));
    assert_eq!(
        kinds(&c),
        ["report(invalid_argument)", "state(closed)", "stop"]
    );
}

#[test]
fn close_wins_every_phase_and_nothing_follows() {
    for steps in 0..5 {
        let mut m = Lifecycle::new(opts(), true);
        let script = [
            Input::Start,
            Input::TokenResolved(Ok(())),
            Input::Opened { now_ms: 0.0 },
            ended(Outcome::Network("x".into()), 1.0),
        ];
        for input in script.iter().take(steps) {
            m.handle(input.clone());
        }
        assert_eq!(
            kinds(&m.handle(Input::Close)),
            ["state(closed)", "stop"],
            "after {steps} steps"
        );
        for input in script
            .into_iter()
            .chain([Input::TimerFired, Input::Wake, Input::Close])
        {
            assert!(m.handle(input).is_empty());
        }
    }
}

#[test]
fn a_terminal_event_ends_the_stream() {
    let mut m = Lifecycle::new(opts(), false);
    m.handle(Input::Start);
    m.handle(Input::Opened { now_ms: 0.0 });
    assert_eq!(kinds(&m.handle(Input::Terminal)), ["state(closed)", "stop"]);
}

#[test]
fn waking_ends_a_backoff_but_not_a_server_mandated_wait() {
    let mut m = Lifecycle::new(opts(), false);
    m.handle(Input::Start);
    m.handle(ended(Outcome::Network("down".into()), 0.0));
    assert_eq!(kinds(&m.handle(Input::Wake)), ["connect"]);
    let c = m.handle(ended(status(503, Some(5_000)), 0.0));
    assert!(c.contains(&Command::Sleep { ms: 5_000 }), "{c:?}");
    assert!(m.handle(Input::Wake).is_empty(), "Retry-After is honoured");
    assert_eq!(kinds(&m.handle(Input::TimerFired)), ["connect"]);
}

#[test]
fn absurd_retry_after_and_infinite_caps_stay_finite() {
    let mut m = Lifecycle::new(
        RetryOptions {
            max_delay_ms: u64::MAX,
            ..opts()
        },
        false,
    );
    m.handle(Input::Start);
    let c = m.handle(ended(status(503, Some(9_999_999_999_000)), 0.0));
    assert!(c.contains(&Command::Sleep {
        ms: MAX_RETRY_AFTER_MS
    }));
    for _ in 0..100 {
        m.handle(Input::TimerFired);
        let c = m.handle(ended(Outcome::Network("x".into()), 0.0));
        for cmd in c {
            if let Command::Sleep { ms } = cmd {
                assert!((100..=MAX_TIMER_MS).contains(&ms), "{ms}");
            }
        }
    }
}

#[test]
fn backoff_grows_until_a_connection_is_healthy_and_max_attempts_ends_it() {
    let mut m = Lifecycle::new(
        RetryOptions {
            max_attempts: Some(4),
            ..opts()
        },
        false,
    );
    m.handle(Input::Start);
    let attempt = |c: &[Command]| {
        c.iter().find_map(|c| match c {
            Command::Reconnecting { attempt, .. } => Some(*attempt),
            _ => None,
        })
    };
    // Open briefly, then fail: the count goes on.
    let mut now = 0.0;
    for want in 1..=3 {
        m.handle(Input::Opened { now_ms: now });
        now += 500.0;
        let c = m.handle(ended(Outcome::EndOfBody, now));
        assert_eq!(attempt(&c), Some(want));
        m.handle(Input::TimerFired);
    }
    // Healthy for 10 s: the next failure is the first again.
    m.handle(Input::Opened { now_ms: now });
    now += 10_000.0;
    assert_eq!(attempt(&m.handle(ended(Outcome::EndOfBody, now))), Some(1));
    for want in 2..=4 {
        m.handle(Input::TimerFired);
        let c = m.handle(ended(Outcome::Network("x".into()), now));
        assert_eq!(attempt(&c), Some(want));
    }
    m.handle(Input::TimerFired);
    let c = m.handle(ended(Outcome::Network("x".into()), now));
    assert_eq!(
        kinds(&c),
        [
            "report(network)",
            "report(network)",
            "state(closed)",
            "stop"
        ]
    );
    let Command::Report(e) = &c[1] else {
        panic!("{c:?}")
    };
    assert_eq!(e.kind(), ErrorKind::Network);
    assert!(e.to_string().contains("maxAttempts"));
}

/// Random input sequences, as a driver would feed them (and some stale ones), against the
/// invariants in the module docs (proptest is native only).
#[cfg(not(target_arch = "wasm32"))]
mod invariants {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        /// Answer the outstanding command: token ok/failed, opened, ended with an outcome,
        /// terminal, timer fired.
        Answer {
            token_ok: bool,
            outcome: u8,
            open_first: bool,
            dt: u32,
        },
        Wake,
        StaleTimer,
        StaleOpened,
        Close,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            12 => (any::<bool>(), 0u8..12, any::<bool>(), 0u32..30_000)
                .prop_map(|(token_ok, outcome, open_first, dt)| Step::Answer { token_ok, outcome, open_first, dt }),
            2 => Just(Step::Wake),
            1 => Just(Step::StaleTimer),
            1 => Just(Step::StaleOpened),
            1 => Just(Step::Close),
        ]
    }

    fn outcome(n: u8) -> Outcome {
        match n {
            0 | 1 => Outcome::EndOfBody,
            2 | 3 => Outcome::Network("reset".into()),
            4 => Outcome::IdleTimeout(45_000),
            5 => status(503, None),
            6 => status(429, Some(u64::MAX / 2)),
            7 => status(503, Some(2_000)),
            8 => status(401, None),
            9 => status(404, None),
            10 => Outcome::ContentType("text/html".into()),
            _ => status(500, None),
        }
    }

    /// What the driver waits for.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Waiting {
        Nothing,
        Token,
        Connection { opened_at: Option<f64> },
        Timer,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn hold_over_random_inputs(
            provider in any::<bool>(),
            max_attempts in prop_oneof![Just(None), (1u32..6).prop_map(Some)],
            max_delay_ms in prop_oneof![Just(30_000u64), Just(u64::MAX), Just(100u64)],
            healthy_after_ms in 0u64..20_000,
            steps in proptest::collection::vec(step(), 1..80),
        ) {
            let retry = RetryOptions { max_attempts, max_delay_ms, healthy_after_ms, ..opts() };
            let mut m = Lifecycle::new(retry, provider);
            let mut now = 0.0f64;
            let mut waiting = Waiting::Nothing;
            let mut stopped = false;
            // The model of consecutive failures.
            let mut failures = 0u32;
            let mut mandated_ms: Option<u64> = None;
            let mut inputs = vec![Input::Start];
            for s in steps {
                // Turn the step into an input that fits what the driver is waiting for.
                match s {
                    Step::Answer { token_ok, outcome: o, open_first, dt } => {
                        now += f64::from(dt);
                        match waiting {
                            Waiting::Token => inputs.push(Input::TokenResolved(
                                if token_ok { Ok(()) } else { Err("no".into()) })),
                            Waiting::Connection { opened_at: None } if open_first => {
                                inputs.push(Input::Opened { now_ms: now });
                            }
                            Waiting::Connection { .. } if o == 11 && open_first => {
                                inputs.push(Input::Terminal);
                            }
                            Waiting::Connection { .. } => inputs.push(Input::Ended {
                                outcome: outcome(o), now_ms: now, random: f64::from(dt) / 30_000.0,
                            }),
                            Waiting::Timer => inputs.push(Input::TimerFired),
                            Waiting::Nothing => inputs.push(Input::Wake),
                        }
                    }
                    Step::Wake => inputs.push(Input::Wake),
                    Step::StaleTimer if waiting != Waiting::Timer => inputs.push(Input::TimerFired),
                    Step::StaleTimer => inputs.push(Input::Wake),
                    Step::StaleOpened if !matches!(waiting, Waiting::Connection { opened_at: None }) => {
                        inputs.push(Input::Opened { now_ms: now });
                    }
                    Step::StaleOpened => inputs.push(Input::Wake),
                    Step::Close => inputs.push(Input::Close),
                }
                for input in inputs.drain(..) {
                    // Track the model before the machine sees it.
                    if let (Input::Ended { outcome, now_ms, .. }, Waiting::Connection { opened_at }) = (&input, waiting) {
                        if let Some(at) = opened_at {
                            if now_ms - at >= healthy_after_ms as f64 { failures = 0; }
                        }
                        let _ = outcome;
                    }
                    if let (Input::TokenResolved(Err(_)), Waiting::Token) = (&input, waiting) {
                        // Counted as a failure below, when the machine reconnects.
                    }
                    let is_close = input == Input::Close;
                    let opened = matches!(input, Input::Opened { .. }) && matches!(waiting, Waiting::Connection { opened_at: None });
                    let wake = input == Input::Wake;
                    // The Retry-After the sleep this input leads to may honour.
                    let retry_after = match &input {
                        Input::Ended { outcome: Outcome::Status { retry_after_ms, .. }, .. } => *retry_after_ms,
                        _ => None,
                    };
                    let commands = m.handle(input.clone());
                    if stopped {
                        prop_assert!(commands.is_empty(), "after stop: {:?} -> {:?}", input, commands);
                        continue;
                    }
                    if opened {
                        waiting = Waiting::Connection { opened_at: Some(now) };
                    }
                    if matches!(input, Input::Ended { .. } | Input::TokenResolved(Err(_))) || is_close {
                        waiting = Waiting::Nothing;
                    }
                    if wake && waiting == Waiting::Timer && mandated_ms.is_some() {
                        prop_assert!(commands.is_empty(), "a wake cut a mandated wait short");
                    }
                    for c in &commands {
                        prop_assert!(!stopped, "a command after stop: {:?}", c);
                        match c {
                            Command::ResolveToken { .. } => {
                                prop_assert!(provider);
                                prop_assert!(matches!(waiting, Waiting::Nothing | Waiting::Timer), "token while {:?}", waiting);
                                waiting = Waiting::Token;
                            }
                            Command::Connect => {
                                prop_assert!(matches!(waiting, Waiting::Nothing | Waiting::Timer | Waiting::Token), "connect while {:?}", waiting);
                                prop_assert!(!provider || waiting == Waiting::Token || matches!(input, Input::TokenResolved(Ok(()))));
                                waiting = Waiting::Connection { opened_at: None };
                            }
                            Command::Sleep { ms } => {
                                let floor = 100;
                                let cap = max_delay_ms.max(floor).min(MAX_TIMER_MS);
                                let allowed = retry_after.map_or(cap, |m| cap.max(m.min(MAX_RETRY_AFTER_MS)));
                                prop_assert!(*ms >= floor && *ms <= allowed, "delay {} not in [{}, {}]", ms, floor, allowed);
                                waiting = Waiting::Timer;
                                mandated_ms = retry_after;
                            }
                            Command::Reconnecting { attempt, .. } => {
                                failures += 1;
                                prop_assert_eq!(*attempt, failures, "the backoff's attempt number");
                                if let Some(max) = max_attempts {
                                    prop_assert!(*attempt <= max);
                                }
                            }
                            Command::Stop => stopped = true,
                            Command::Read => {
                                prop_assert!(opened, "read without an opened connection");
                            }
                            Command::Report(_) | Command::SetState(_) => {}
                        }
                    }
                    if let Some(max) = max_attempts {
                        if failures >= max && matches!(input, Input::Ended { .. } | Input::TokenResolved(Err(_))) && !commands.iter().any(|c| matches!(c, Command::Reconnecting { .. } | Command::ResolveToken { .. })) {
                            prop_assert!(stopped, "more than maxAttempts failures");
                        }
                    }
                }
            }
        }
    }
}
