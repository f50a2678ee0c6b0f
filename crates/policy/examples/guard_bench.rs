//! Guard scanning throughput on one core.
//!
//! `cargo run --release -p palisade-policy --example guard_bench`
//!
//! Checks a 4 KiB prompt against a chain with the seed's literal pattern and every
//! built-in detector, on clean text (the common case) and on text with matches to
//! mask, and compares with parsing the same prompt as a JSON request body (work
//! every guarded request does anyway), measured in the same run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use palisade_api::kinds::agentgateway::ai::{GuardEntry, GuardScope, RegexAction, RegexGuard};
use palisade_policy::guard::{ALL_BUILTINS, GuardChain, Verdict};

fn prompt(with_matches: bool) -> String {
    let sentence = "The network engineer reviews routing tables, checks the gateway logs and writes a short report for the team. ";
    let mut text = String::new();
    while text.len() < 4096 {
        text.push_str(sentence);
        if with_matches && text.len().is_multiple_of(3) {
            text.push_str("card 4111 1111 1111 1111, mail ann@example.org. ");
        }
    }
    text.truncate(4096);
    text
}

/// Runs `f` repeatedly for about a second; returns the time per call.
fn measure(mut f: impl FnMut()) -> Duration {
    for _ in 0..200 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    start.elapsed() / n
}

fn main() {
    let chain = GuardChain::compile(&[
        GuardEntry {
            regex: Some(RegexGuard {
                matches: vec!["credit card".into()],
                builtins: vec![],
                action: Some(RegexAction::Reject),
            }),
            ..GuardEntry::default()
        },
        GuardEntry {
            regex: Some(RegexGuard {
                matches: vec![],
                builtins: ALL_BUILTINS.to_vec(),
                action: Some(RegexAction::Mask),
            }),
            ..GuardEntry::default()
        },
    ])
    .expect("the chain compiles");
    let clean = prompt(false);
    let dirty = prompt(true);
    assert_eq!(chain.check(GuardScope::Messages, &clean), Verdict::Pass);
    assert!(matches!(
        chain.check(GuardScope::Messages, &dirty),
        Verdict::Mask { .. }
    ));
    let body = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": clean}]})
        .to_string();

    let parse = measure(|| {
        let v: serde_json::Value = serde_json::from_str(black_box(&body)).unwrap();
        black_box(v);
    });
    let pass = measure(|| {
        black_box(chain.check(GuardScope::Messages, black_box(&clean)));
    });
    let masked = measure(|| {
        black_box(chain.check(GuardScope::Messages, black_box(&dirty)));
    });
    let mbps = |d: Duration| 4096.0 / d.as_secs_f64() / 1e6;
    println!(
        "4 KiB prompt, seed pattern + {} built-ins, one core:",
        ALL_BUILTINS.len()
    );
    println!("| case | time per check | MB/s | ratio to JSON parse of the body |");
    println!("|---|---:|---:|---:|");
    println!(
        "| JSON parse of the request body (baseline) | {:.1} µs | {:.0} | 1.00 |",
        parse.as_secs_f64() * 1e6,
        mbps(parse)
    );
    for (name, d) in [
        ("guard, clean text", pass),
        ("guard, text with matches (masked)", masked),
    ] {
        println!(
            "| {name} | {:.1} µs | {:.0} | {:.2} |",
            d.as_secs_f64() * 1e6,
            mbps(d),
            d.as_secs_f64() / parse.as_secs_f64()
        );
    }
}
