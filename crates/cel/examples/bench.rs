//! Rough per-operation timings of palisade-cel.
//!
//! Run with `cargo run --release -p palisade-cel --example bench`. Prints
//! nanoseconds per operation (median of several rounds); numbers vary from
//! machine to machine, ratios are what to look at.

use palisade_cel::cel::Context;
use palisade_cel::{CelValue, Program, Vars};
use serde_json::json;
use std::hint::black_box;
use std::time::Instant;

/// Times `f` over `iters` iterations, `ROUNDS` times, and prints the median
/// nanoseconds per iteration.
fn bench(name: &str, iters: u32, mut f: impl FnMut()) {
    const ROUNDS: usize = 7;
    for _ in 0..iters / 10 + 1 {
        f();
    }
    let mut samples: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    println!("{name:<58} {:>10.0} ns", samples[ROUNDS / 2]);
}

const RULES: [&str; 5] = [
    r#"mcp.tool.name == "echo""#,
    r#"mcp.tool.name == "get_user_info""#,
    r#"mcp.tool.name == "list_files" && jwt.scope.contains("files:read")"#,
    r#"mcp.tool.name == "delete_file" && jwt.scope.contains("files:delete") && jwt["https://mcp-demo/roles"].contains("admin")"#,
    r#"mcp.tool.name == "system_status" && jwt["https://mcp-demo/roles"].contains("admin")"#,
];

const ROLE_MAPPER: &str = "has(claims.Groups) ? claims.Groups.transformList(i, v, v in rolesMap, rolesMap[v]) : (has(claims.groups) ? claims.groups.transformList(i, v, v in rolesMap, rolesMap[v]) : [])";

fn main() {
    let start = Instant::now();
    palisade_cel::init();
    println!(
        "{:<58} {:>10.0} ns",
        "init (shared environment, once per process)",
        start.elapsed().as_nanos()
    );

    bench(
        "cel Context::default() (what every eval would pay)",
        2_000,
        || {
            black_box(Context::default());
        },
    );
    bench("compile `jwt.sub == \"alice\"`", 2_000, || {
        black_box(Program::compile(r#"jwt.sub == "alice""#).unwrap());
    });
    bench("compile the 4th seed rule (delete_file)", 1_000, || {
        black_box(Program::compile(RULES[3]).unwrap());
    });
    bench("compile the seed roleMapper", 1_000, || {
        black_box(Program::compile(ROLE_MAPPER).unwrap());
    });

    let claims_json = json!({
        "sub": "alice", "iss": "https://example.auth0.com/", "aud": "mcp",
        "exp": 1_900_000_000u64, "iat": 1_800_000_000u64,
        "scope": "openid profile files:read files:delete",
        "https://mcp-demo/roles": ["viewer", "admin"],
        "groups": ["readers", "unknown"],
    });
    bench(
        "CelValue::from_json(claims) (once per token)",
        20_000,
        || {
            black_box(CelValue::from_json(black_box(&claims_json)));
        },
    );
    let jwt = CelValue::from_json(&claims_json);

    let trivial = Program::compile("true").unwrap();
    bench(
        "eval `true` (child scope + resolver, the floor)",
        200_000,
        || {
            let vars = Vars::new();
            black_box(trivial.eval_bool(&vars).unwrap());
        },
    );

    let sub = Program::compile(r#"jwt.sub == "alice""#).unwrap();
    bench(
        "eval `jwt.sub == \"alice\"` (jwt bound by reference)",
        200_000,
        || {
            let mut vars = Vars::new();
            vars.bind("jwt", &jwt);
            black_box(sub.eval_bool(&vars).unwrap());
        },
    );

    let rules: Vec<Program> = RULES.iter().map(|r| Program::compile(r).unwrap()).collect();
    for tool in ["echo", "delete_file", "system_status"] {
        let request = json!({"tool": {"name": tool, "target": "mcp-server"}});
        bench(
            &format!("eval all 5 seed rules, tool {tool} (incl. bind_json mcp)"),
            50_000,
            || {
                let mut vars = Vars::new();
                vars.bind_json("mcp", &request).bind("jwt", &jwt);
                for rule in &rules {
                    black_box(rule.eval_bool(&vars).unwrap_or(false));
                }
            },
        );
    }
    let request = json!({"tool": {"name": "delete_file", "target": "mcp-server"}});
    bench("Vars::bind_json of the mcp request alone", 200_000, || {
        let mut vars = Vars::new();
        vars.bind_json("mcp", black_box(&request));
        black_box(&vars);
    });
    let no_scope = CelValue::from_json(&json!({"sub": "bob"}));
    bench(
        "eval list_files rule, claim missing (error path)",
        100_000,
        || {
            let request = json!({"tool": {"name": "list_files"}});
            let mut vars = Vars::new();
            vars.bind_json("mcp", &request).bind("jwt", &no_scope);
            black_box(rules[2].eval_bool(&vars).is_err());
        },
    );

    let mapper = Program::compile(ROLE_MAPPER).unwrap();
    let roles_map = CelValue::from_json(&json!({
        "admins": "global.Admin", "readers": "global.Reader", "writers": "global.Writer",
    }));
    bench("eval roleMapper, groups [readers, unknown]", 50_000, || {
        let mut vars = Vars::new();
        vars.bind("claims", &jwt).bind("rolesMap", &roles_map);
        black_box(mapper.eval_strings(&vars).unwrap());
    });

    let prompt = CelValue::from("What is a credit card? ".repeat(8));
    let literal = Program::compile(r"prompt.matches('credit\\s+card')").unwrap();
    bench(
        "eval prompt.matches('credit\\\\s+card') (precompiled)",
        50_000,
        || {
            let mut vars = Vars::new();
            vars.bind("prompt", &prompt);
            black_box(literal.eval_bool(&vars).unwrap());
        },
    );
    let computed = Program::compile(r"prompt.matches('credit' + '\\s+card')").unwrap();
    bench(
        "eval prompt.matches('credit' + '\\\\s+card') (cel, per eval)",
        2_000,
        || {
            let mut vars = Vars::new();
            vars.bind("prompt", &prompt);
            black_box(computed.eval_bool(&vars).unwrap());
        },
    );
}
