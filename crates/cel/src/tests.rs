//! The seed's expressions, end to end: the OIDC `roleMapper` (S1) and the
//! MCP authorization rules (S9), plus the extensions and analysis they rely
//! on.

use crate::{CelValue, EvalError, Program, Vars};
use serde_json::{Value as Json, json};

const ROLE_MAPPER: &str = "has(claims.Groups) ? claims.Groups.transformList(i, v, v in rolesMap, rolesMap[v]) : (has(claims.groups) ? claims.groups.transformList(i, v, v in rolesMap, rolesMap[v]) : [])";

fn role_mappings() -> CelValue {
    CelValue::from_json(&json!({
        "admins": "global.Admin",
        "readers": "global.Reader",
        "writers": "global.Writer",
    }))
}

fn roles_for(claims: Json) -> Result<Vec<String>, EvalError> {
    let program = Program::compile(ROLE_MAPPER).unwrap();
    let mappings = role_mappings();
    let mut vars = Vars::new();
    vars.bind_json("claims", &claims)
        .bind("rolesMap", &mappings);
    program.eval_strings(&vars)
}

#[test]
fn role_mapper_maps_groups_and_drops_unmapped_ones() {
    assert_eq!(
        roles_for(json!({"groups": ["readers", "unknown"]})).unwrap(),
        ["global.Reader"]
    );
    assert_eq!(
        roles_for(json!({"Groups": ["admins"]})).unwrap(),
        ["global.Admin"]
    );
    assert_eq!(
        roles_for(json!({"groups": ["writers", "readers", "admins"]})).unwrap(),
        ["global.Writer", "global.Reader", "global.Admin"]
    );
    assert!(
        roles_for(json!({"groups": ["nobody", "else"]}))
            .unwrap()
            .is_empty()
    );
    assert!(roles_for(json!({"groups": []})).unwrap().is_empty());
}

#[test]
fn role_mapper_prefers_capitalised_groups_and_tolerates_no_groups() {
    assert_eq!(
        roles_for(json!({"Groups": ["writers"], "groups": ["admins"]})).unwrap(),
        ["global.Writer"]
    );
    assert!(roles_for(json!({"sub": "alice"})).unwrap().is_empty());
    assert!(roles_for(json!({})).unwrap().is_empty());
}

#[test]
fn role_mapper_on_a_malformed_claim_is_an_error_not_a_panic() {
    assert!(roles_for(json!({"groups": "readers"})).is_err());
    assert!(roles_for(json!({"groups": [1, 2]})).unwrap().is_empty());
}

#[test]
fn role_mapper_reads_claims_and_the_mapping_table() {
    let program = Program::compile(ROLE_MAPPER).unwrap();
    let vars = program.variables();
    assert_eq!(vars.names().collect::<Vec<_>>(), ["claims", "rolesMap"]);
    let paths: Vec<String> = vars.paths().map(|p| p.to_string()).collect();
    assert_eq!(paths, ["claims.Groups", "claims.groups", "rolesMap"]);
    assert!(vars.missing_from(&["claims", "rolesMap"]).is_empty());
    assert_eq!(vars.missing_from(&["claims"]), ["rolesMap"]);
}

/// The five `matchExpressions` of the seed's `mcp-oauth-policy`, with the
/// intended claim name and value.
const MCP_RULES: [&str; 5] = [
    r#"mcp.tool.name == "echo""#,
    r#"mcp.tool.name == "get_user_info""#,
    r#"mcp.tool.name == "list_files" && jwt.scope.contains("files:read")"#,
    r#"mcp.tool.name == "delete_file" && jwt.scope.contains("files:delete") && jwt["https://mcp-demo/roles"].contains("admin")"#,
    r#"mcp.tool.name == "system_status" && jwt["https://mcp-demo/roles"].contains("admin")"#,
];

/// The same rules as the seed text prints them, with link artefacts.
const MCP_RULES_AS_PRINTED: [&str; 2] = [
    r#"mcp.tool.name == "delete_file" && jwt.scope.contains("files:delete") && jwt["<https://mcp-demo/roles"].contains("admin>")"#,
    r#"mcp.tool.name == "system_status" && jwt["<https://mcp-demo/roles"].contains("admin>")"#,
];

const TOOLS: [&str; 5] = [
    "echo",
    "get_user_info",
    "list_files",
    "delete_file",
    "system_status",
];

fn tool_request(name: &str) -> Json {
    json!({"tool": {"name": name, "target": "mcp-server"}})
}

/// The tools a caller with `claims` may use: a tool is allowed when any
/// rule is true; a rule that fails to evaluate counts as false.
fn allowed_tools(rules: &[Program], claims: &Json) -> Vec<&'static str> {
    let jwt = CelValue::from_json(claims);
    TOOLS
        .iter()
        .copied()
        .filter(|tool| {
            let request = tool_request(tool);
            let mut vars = Vars::new();
            vars.bind_json("mcp", &request).bind("jwt", &jwt);
            rules.iter().any(|r| r.eval_bool(&vars).unwrap_or(false))
        })
        .collect()
}

fn compiled(rules: &[&str]) -> Vec<Program> {
    rules.iter().map(|r| Program::compile(r).unwrap()).collect()
}

#[test]
fn mcp_rules_grant_tools_by_scope_and_role() {
    let rules = compiled(&MCP_RULES);
    let cases = [
        // any valid token: the two public tools
        (
            json!({"sub": "u1", "scope": "openid profile"}),
            vec!["echo", "get_user_info"],
        ),
        (json!({"sub": "u2"}), vec!["echo", "get_user_info"]),
        // files:read adds list_files
        (
            json!({"sub": "u3", "scope": "openid files:read"}),
            vec!["echo", "get_user_info", "list_files"],
        ),
        // files:delete without the admin role: no delete_file
        (
            json!({"sub": "u4", "scope": "files:read files:delete",
                   "https://mcp-demo/roles": ["user"]}),
            vec!["echo", "get_user_info", "list_files"],
        ),
        // admin without files:delete: system_status, no delete_file
        (
            json!({"sub": "u5", "scope": "openid",
                   "https://mcp-demo/roles": ["admin"]}),
            vec!["echo", "get_user_info", "system_status"],
        ),
        // admin with both scopes: everything
        (
            json!({"sub": "u6", "scope": "files:read files:delete",
                   "https://mcp-demo/roles": ["viewer", "admin"]}),
            TOOLS.to_vec(),
        ),
    ];
    for (claims, expected) in cases {
        assert_eq!(allowed_tools(&rules, &claims), expected, "{claims}");
    }
}

#[test]
fn a_missing_claim_is_an_error_that_callers_count_as_false() {
    let rules = compiled(&MCP_RULES);
    let jwt = CelValue::from_json(&json!({"sub": "u2"}));
    let request = tool_request("list_files");
    let mut vars = Vars::new();
    vars.bind_json("mcp", &request).bind("jwt", &jwt);
    assert!(matches!(
        rules[2].eval_bool(&vars),
        Err(EvalError::Execution(cel::ExecutionError::NoSuchKey(_)))
    ));
    // a rule for another tool short-circuits before reading the claim
    assert_eq!(rules[4].eval_bool(&vars), Ok(false));
}

#[test]
fn the_printed_artefact_forms_compile_and_fail_safely() {
    let printed = compiled(&MCP_RULES_AS_PRINTED);
    let admin = json!({"sub": "a", "scope": "files:read files:delete",
                       "https://mcp-demo/roles": ["admin"]});
    let jwt = CelValue::from_json(&admin);
    for (rule, tool) in printed.iter().zip(["delete_file", "system_status"]) {
        let request = tool_request(tool);
        let mut vars = Vars::new();
        vars.bind_json("mcp", &request).bind("jwt", &jwt);
        let result = rule.eval_bool(&vars);
        assert!(
            matches!(
                result,
                Err(EvalError::Execution(cel::ExecutionError::NoSuchKey(_)))
            ),
            "{result:?}"
        );
    }
    // with the printed rules, an admin only gets the public tools
    let mut rules = compiled(&MCP_RULES[..3]);
    rules.extend(printed);
    assert_eq!(
        allowed_tools(&rules, &admin),
        ["echo", "get_user_info", "list_files"]
    );
}

#[test]
fn mcp_rules_read_mcp_and_jwt_paths() {
    let paths = |source: &str| -> Vec<String> {
        let program = Program::compile(source).unwrap();
        program.variables().paths().map(|p| p.to_string()).collect()
    };
    assert_eq!(paths(MCP_RULES[0]), ["mcp.tool.name"]);
    assert_eq!(paths(MCP_RULES[2]), ["jwt.scope", "mcp.tool.name"]);
    assert_eq!(
        paths(MCP_RULES[3]),
        [
            r#"jwt["https://mcp-demo/roles"]"#,
            "jwt.scope",
            "mcp.tool.name"
        ]
    );
    let program = Program::compile(MCP_RULES[4]).unwrap();
    let roles = program
        .variables()
        .paths()
        .find(|p| p.root() == "jwt")
        .unwrap();
    assert_eq!(roles.segments(), ["jwt", "https://mcp-demo/roles"]);
    assert_eq!(
        program.variables().names().collect::<Vec<_>>(),
        ["jwt", "mcp"]
    );
    assert_eq!(
        Program::compile(MCP_RULES[1])
            .unwrap()
            .variables()
            .missing_from(&["mcp"]),
        Vec::<&str>::new()
    );
    assert_eq!(
        Program::compile(MCP_RULES[2])
            .unwrap()
            .variables()
            .missing_from(&["mcp"]),
        ["jwt"]
    );
}

#[test]
fn url_like_keys_work_with_brackets_and_in() {
    let jwt = CelValue::from_json(&json!({"https://mcp-demo/roles": ["admin"]}));
    let mut vars = Vars::new();
    vars.bind("jwt", &jwt);
    let eval = |s: &str| Program::compile(s).unwrap().eval_bool(&vars);
    assert_eq!(eval(r#""https://mcp-demo/roles" in jwt"#), Ok(true));
    assert_eq!(eval(r#""https://other/roles" in jwt"#), Ok(false));
    assert_eq!(eval(r#"jwt.contains("https://mcp-demo/roles")"#), Ok(true));
    assert_eq!(
        eval(r#"jwt[?"https://other/roles"].orValue([]).contains("admin")"#),
        Ok(false)
    );
    assert!(eval(r#"jwt["https://other/roles"].contains("admin")"#).is_err());
}
