//! The `demo` scenario: a coordinator delegating to child agents, forever, deterministic per
//! seed and paced by `--speed`.
//!
//! At start-up the demo session (`sess_demo0000000000000000000000000001`) already holds the
//! coordinator thread and a few events, so history replay is visible at once. Then rounds play
//! out live: the coordinator plans, delegates to two or three children (new threads get a
//! `session.thread_created`), the children run, think, use a tool, answer, report back and go
//! idle (sometimes terminate), the coordinator sums up and goes idle; after a pause the next
//! round starts in the same session.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::store::{NewEvent, NewThread, Store};

/// Session id of the demo session.
pub const DEMO_SESSION_ID: &str = "sess_demo0000000000000000000000000001";
/// Agent name of the demo coordinator.
pub const COORDINATOR: &str = "Coordinator";

const AGENTS: [&str; 3] = ["Research Agent", "Writer Agent", "Reviewer Agent"];

const TOPICS: [&str; 4] = [
    "東京の再生可能エネルギー政策",
    "SSE ストリームの再接続戦略",
    "WebAssembly のバンドルサイズ削減",
    "マルチエージェントの引き継ぎ設計",
];

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn text(s: impl Into<String>) -> Value {
    json!([{ "type": "text", "text": s.into() }])
}

fn event(v: Value) -> NewEvent {
    // The literals below are objects, so this cannot fail.
    NewEvent::from_value(v).unwrap_or_default()
}

/// Creates the demo session with its coordinator and a short history, then spawns the loop.
pub fn start(store: Arc<Store>, seed: u64, speed: f64) -> JoinHandle<()> {
    let sid = store.create_session(Some(DEMO_SESSION_ID.to_string()));
    let coordinator = store
        .create_thread(
            &sid,
            NewThread {
                agent_name: COORDINATOR.into(),
                ..NewThread::default()
            },
        )
        .map(|t| t.id)
        .unwrap_or_default();
    let intro = [
        json!({"type": "user.message", "content": text("調査してレポートにまとめてください: 再生可能エネルギー")}),
        json!({"type": "session.thread_status_running", "agent_name": COORDINATOR}),
        json!({"type": "agent.thinking", "content": text("依頼を分解します。まず調査、次に執筆、最後にレビュー。")}),
        json!({"type": "agent.message", "content": text("了解しました。専門のエージェントに分担します。")}),
        json!({"type": "session.thread_status_idle", "stop_reason": {"type": "end_turn"}}),
    ];
    for ev in intro {
        let _ = store.append(&sid, &coordinator, event(ev));
    }
    tokio::spawn(run(store, sid, coordinator, seed, speed))
}

struct Demo {
    store: Arc<Store>,
    sid: String,
    coordinator: String,
    rng: Rng,
    speed: f64,
    /// Live (not terminated) children, by agent index.
    children: [Option<String>; 3],
}

impl Demo {
    /// Appends an event; returns its id.
    fn emit(&self, tid: &str, v: Value) -> String {
        self.store
            .append(&self.sid, tid, event(v))
            .map(|e| e.id.clone())
            .unwrap_or_default()
    }

    /// Sleeps 0.5–1.5 s divided by the speed.
    async fn pace(&mut self) {
        let secs = (0.5 + self.rng.unit()) / self.speed;
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    }

    fn child(&mut self, agent: usize, round: u64) -> String {
        if let Some(t) = &self.children[agent] {
            return t.clone();
        }
        let tid = self
            .store
            .create_thread(
                &self.sid,
                NewThread {
                    agent_name: AGENTS[agent].into(),
                    parent_thread_id: Some(self.coordinator.clone()),
                    created_by_tool_use_id: Some(format!("toolu_demo_{round:04}_{agent}")),
                    ..NewThread::default()
                },
            )
            .map(|t| t.id)
            .unwrap_or_default();
        self.children[agent] = Some(tid.clone());
        tid
    }

    async fn round(&mut self, round: u64) {
        let topic = TOPICS[(round as usize) % TOPICS.len()];
        let coord = self.coordinator.clone();
        self.emit(&coord, json!({"type": "user.message", "content": text(format!("ラウンド {round}: 「{topic}」について調べてまとめて。"))}));
        self.pace().await;
        self.emit(
            &coord,
            json!({"type": "session.thread_status_running", "agent_name": COORDINATOR}),
        );
        self.pace().await;
        self.emit(
            &coord,
            json!({"type": "agent.thinking", "content": text(format!("「{topic}」を分担する。"))}),
        );
        self.pace().await;

        let n = 2 + self.rng.below(2) as usize;
        let first = self.rng.below(3) as usize;
        let picked: Vec<usize> = (0..n).map(|i| (first + i) % 3).collect();
        let mut kids = Vec::new();
        for &a in &picked {
            let tid = self.child(a, round);
            let task = format!("{}として「{topic}」を担当してください。", AGENTS[a]);
            self.emit(
                &coord,
                json!({
                    "type": "agent.thread_message_sent", "direction": "coordinator_to_child",
                    "content": text(task.clone()), "from_session_thread_id": coord,
                    "to_session_thread_id": tid, "to_agent_name": AGENTS[a],
                }),
            );
            self.emit(
                &tid,
                json!({
                    "type": "agent.thread_message_received", "direction": "coordinator_to_child",
                    "content": text(task), "is_error": false, "from_session_thread_id": coord,
                    "to_session_thread_id": tid, "from_agent_name": COORDINATOR,
                }),
            );
            self.pace().await;
            kids.push((a, tid, 0u8, String::new()));
        }

        // The children work, interleaved.
        while !kids.is_empty() {
            let k = self.rng.below(kids.len() as u64) as usize;
            let (a, tid, step, tool_id) = kids[k].clone();
            match step {
                0 => {
                    self.emit(
                        &tid,
                        json!({"type": "session.thread_status_running", "agent_name": AGENTS[a]}),
                    );
                }
                1 => {
                    self.emit(&tid, json!({"type": "agent.thinking", "content": text(format!("{topic}の要点を整理中…"))}));
                }
                2 => {
                    let id = self.emit(&tid, json!({"type": "agent.tool_use", "name": "web_search", "input": {"query": topic, "lang": "ja"}}));
                    kids[k].3 = id;
                }
                3 => {
                    let hits = 3 + self.rng.below(7);
                    self.emit(&tid, json!({"type": "agent.tool_result", "tool_use_id": tool_id, "is_error": false, "content": text(format!("検索結果 {hits} 件 ✓"))}));
                }
                4 => {
                    self.emit(&tid, json!({"type": "agent.message", "content": text(format!("{}: 「{topic}」の結論をまとめました。🌸", AGENTS[a]))}));
                }
                5 => {
                    let report = format!("報告: {topic} — 完了しました。");
                    self.emit(&tid, json!({
                        "type": "agent.thread_message_sent", "direction": "child_to_coordinator",
                        "content": text(report.clone()), "from_session_thread_id": tid,
                        "to_session_thread_id": coord, "to_agent_name": COORDINATOR,
                    }));
                    self.emit(&coord, json!({
                        "type": "agent.thread_message_received", "direction": "child_to_coordinator",
                        "content": text(report), "is_error": false, "from_session_thread_id": tid,
                        "to_session_thread_id": coord, "from_agent_name": AGENTS[a],
                    }));
                }
                6 => {
                    self.emit(&tid, json!({"type": "session.thread_status_idle", "stop_reason": {"type": "end_turn"}}));
                }
                _ => {
                    if self.rng.below(3) == 0 {
                        self.emit(&tid, json!({"type": "session.thread_status_terminated", "stop_reason": {"type": "archive"}}));
                        self.children[a] = None;
                    }
                    kids.remove(k);
                    continue;
                }
            }
            kids[k].2 += 1;
            self.pace().await;
        }

        self.emit(&coord, json!({"type": "agent.message", "content": text(format!("ラウンド {round} のまとめ: 「{topic}」の報告がそろいました。"))}));
        self.pace().await;
        self.emit(
            &coord,
            json!({"type": "session.thread_status_idle", "stop_reason": {"type": "end_turn"}}),
        );
    }
}

async fn run(store: Arc<Store>, sid: String, coordinator: String, seed: u64, speed: f64) {
    let mut demo = Demo {
        store,
        sid,
        coordinator,
        rng: Rng::new(seed),
        speed,
        children: [None, None, None],
    };
    let mut round = 1;
    loop {
        demo.pace().await;
        demo.round(round).await;
        round += 1;
        tokio::time::sleep(Duration::from_secs_f64(4.0 / speed)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic() {
        let a: Vec<u64> = (0..5)
            .scan(Rng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(Rng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        let mut r = Rng::new(1);
        assert!((0..1000).all(|_| (0.0..1.0).contains(&r.unit())));
    }
}
