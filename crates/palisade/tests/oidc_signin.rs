//! SEED-CASES S1: human sign-in through a real OpenID Connect provider.
//!
//! `tests/clients/oidc_idp.mjs` runs the `oidc-provider` npm package on
//! loopback; each of its clients is a persona whose client-credentials access
//! tokens (RS256-signed JWTs) carry `email` and a `groups` or `Groups` claim.
//! Palisade is started with the seed's `OIDCProvider` (its roleMapping pasted
//! verbatim) pointed at that issuer, and the personas use the admin API with
//! their IdP tokens: the seed's role mapping decides what each may do, the
//! refusals are Kubernetes `Forbidden` statuses naming the user and are
//! audited, and tokens that do not verify are `401`.

use std::path::{Path, PathBuf};

use palisade_testkit::admin_api::AdminApi;
use palisade_testkit::idp::TestIdp;
use palisade_testkit::{Palisade, TempDir};
use serde_json::{Value, json};

/// The OIDCProvider's name: user names are `corp:<email, else sub>`.
const PROVIDER: &str = "corp";
/// The resource indicator whose tokens are for Palisade (audience `palisade`).
const RESOURCE: &str = "urn:palisade:admin-api";
/// A resource indicator of another API (audience `someone-else`).
const OTHER_RESOURCE: &str = "urn:someone-else:api";

const MCPS_PATH: &str = "/apis/kagent.dev/v1alpha1/namespaces/kagent/mcpservers";
const AGENTS_PATH: &str = "/apis/kagent.dev/v1alpha2/namespaces/kagent/agents";
const SECRETS_PATH: &str = "/api/v1/namespaces/kagent/secrets";
const CRB_PATH: &str = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
const SSAR_PATH: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const AUDIT_DENIED: &str = "/apis/audit.palisade.dev/v1/events?outcome=denied&limit=1000";

/// The test IdP; its personas ask for the `palisade` scope.
struct Idp(TestIdp);

impl Idp {
    fn start(dir: &Path, name: &str) -> Idp {
        Idp(TestIdp::start(dir, name))
    }

    fn token(&self, client: &str, resource: &str) -> String {
        self.0.token(client, resource, "palisade")
    }
}

impl std::ops::Deref for Idp {
    type Target = TestIdp;

    fn deref(&self) -> &TestIdp {
        &self.0
    }
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

type Api = AdminApi;

/// The checks these tests make through the admin API.
trait SignInChecks {
    /// A list must be refused with 401, the message containing `why`.
    fn unauthorized(&self, what: &str, why: &str);
    /// `auth can-i`: whether the caller may `verb` `resource` of `group` in kagent.
    fn can_i(&self, verb: &str, group: &str, resource: &str) -> bool;
}

impl SignInChecks for AdminApi {
    fn unauthorized(&self, what: &str, why: &str) {
        let r = self.get(MCPS_PATH);
        assert_eq!(r.status, 401, "{what}: answered {}: {}", r.status, r.body);
        assert_eq!(r.body["reason"], "Unauthorized", "{what}: {}", r.body);
        let message = r.body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(why),
            "{what}: the refusal should say {why:?}: {}",
            r.body
        );
    }

    fn can_i(&self, verb: &str, group: &str, resource: &str) -> bool {
        let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "group": group, "resource": resource, "namespace": "kagent"}}});
        let r = self.post(SSAR_PATH, &review);
        assert_eq!(r.status, 201, "SelfSubjectAccessReview: {}", r.body);
        r.body["status"]["allowed"]
            .as_bool()
            .unwrap_or_else(|| panic!("status.allowed is a boolean: {}", r.body))
    }
}

/// The seed's OIDCProvider (examples/seed/00-...), its roleMapping verbatim,
/// with the test IdP's issuer and the audience of its tokens for Palisade.
fn provider_manifest(issuer: &str) -> String {
    let seed = std::fs::read_to_string(repo_file(
        "examples/seed/00-oidc-provider-role-mapping.yaml",
    ))
    .unwrap();
    let seed_issuer = "  issuer: https://idp.example.com/\n";
    assert!(
        seed.contains(seed_issuer) && seed.contains(&format!("name: {PROVIDER}\n")),
        "the seed's OIDCProvider changed:\n{seed}"
    );
    seed.replace(
        seed_issuer,
        &format!("  issuer: {issuer}\n  audiences: [palisade]\n"),
    )
}

/// Palisade with the seed's OIDCProvider for `idp`.
fn start_palisade(state: &TempDir, files: &TempDir, idp: &Idp) -> Palisade {
    let manifest = files.write("oidc.yaml", provider_manifest(&idp.issuer));
    Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--state-dir")
        .arg(state.path())
        .arg("-f")
        .arg(manifest)
        .start()
}

fn mcp_server(name: &str) -> Value {
    json!({"apiVersion": "kagent.dev/v1alpha1", "kind": "MCPServer",
        "metadata": {"name": name, "namespace": "kagent"},
        "spec": {"deployment": {"image": "mcp/everything", "port": 3000, "cmd": "npx",
            "args": ["-y", "@modelcontextprotocol/server-everything"]}, "transportType": "stdio"}})
}

fn secret(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": "kagent"},
        "stringData": {"API_KEY": value}})
}

fn binding(name: &str, user: &str, role: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "subjects": [{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "ClusterRole", "name": role, "apiGroup": "rbac.authorization.k8s.io"}})
}

/// kubectl's refusal text for `user` doing `verb` on `resource` of `group`
/// in namespace kagent (`namespaced`) or at the cluster scope.
fn forbidden(user: &str, verb: &str, resource: &str, group: &str, namespaced: bool) -> String {
    let target = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    let scope = if namespaced {
        "in the namespace \"kagent\""
    } else {
        "at the cluster scope"
    };
    format!(
        "{target} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"
    )
}

/// The `verb reason` of the denied audit events of `principal`.
fn denied_events(admin: &Api, principal: &str) -> Vec<String> {
    let r = admin.get(AUDIT_DENIED);
    assert_eq!(r.status, 200, "audit query: {}", r.body);
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("audit events are a list: {}", r.body))
        .iter()
        .filter(|e| e["principal"] == principal)
        .map(|e| {
            assert_eq!(e["outcome"], "denied", "{e}");
            format!(
                "{} {}",
                e["verb"].as_str().unwrap_or_default(),
                e["reason"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn oidc_users_get_the_roles_their_groups_map_to() {
    let dir = TempDir::new("oidc-roles");
    let files = TempDir::new("oidc-roles-files");
    let idp = Idp::start(files.path(), "idp");
    let palisade = start_palisade(&dir, &files, &idp);
    let admin = Api::admin(&palisade);
    let persona = |client: &str| admin.with_token(&idp.token(client, RESOURCE));

    // Readers (groups: [readers] -> global.Reader): read everything but Secrets.
    let rita = persona("rita-readers");
    let rita_user = format!("{PROVIDER}:rita@example.com");
    for path in [
        MCPS_PATH,
        AGENTS_PATH,
        "/apis/kagent.dev/v1alpha1/mcpservers",
        CRB_PATH,
    ] {
        let list = rita.expect(200, "GET", path, None);
        assert_eq!(list["kind"], "List", "GET {path}: {list}");
    }
    let create_mcps = forbidden(&rita_user, "create", "mcpservers", "kagent.dev", true);
    rita.forbidden(
        "POST",
        MCPS_PATH,
        Some(&mcp_server("rita-was-here")),
        &create_mcps,
    );
    let list_secrets = forbidden(&rita_user, "list", "secrets", "", true);
    rita.forbidden("GET", SECRETS_PATH, None, &list_secrets);
    // The same answers as `auth can-i` gives them.
    assert!(rita.can_i("get", "kagent.dev", "mcpservers"));
    assert!(rita.can_i("list", "kagent.dev", "agents"));
    assert!(!rita.can_i("create", "kagent.dev", "mcpservers"));
    assert!(!rita.can_i("delete", "kagent.dev", "agents"));
    assert!(!rita.can_i("list", "", "secrets"));
    assert!(!rita.can_i("get", "", "secrets"));

    // Writers (the capitalised Groups claim -> global.Writer): write
    // Palisade's resources, not RBAC; Secrets can be written, never read.
    let walt = persona("walt-writers");
    let walt_user = format!("{PROVIDER}:walt@example.com");
    let created = walt.expect(201, "POST", MCPS_PATH, Some(&mcp_server("walt-tools")));
    assert_eq!(created["metadata"]["name"], "walt-tools", "{created}");
    walt.expect(200, "GET", &format!("{MCPS_PATH}/walt-tools"), None);
    rita.expect(200, "GET", &format!("{MCPS_PATH}/walt-tools"), None);
    walt.expect(200, "DELETE", &format!("{MCPS_PATH}/walt-tools"), None);
    admin.expect(404, "GET", &format!("{MCPS_PATH}/walt-tools"), None);
    let bind = binding("walt-admin", &walt_user, "global.Admin");
    walt.forbidden(
        "POST",
        CRB_PATH,
        Some(&bind),
        &forbidden(
            &walt_user,
            "create",
            "clusterrolebindings",
            "rbac.authorization.k8s.io",
            false,
        ),
    );
    admin.expect(404, "GET", &format!("{CRB_PATH}/walt-admin"), None);
    let value = "walt-secret-value-0123456789";
    let created = walt.expect(201, "POST", SECRETS_PATH, Some(&secret("walt-key", value)));
    assert!(
        !created.to_string().contains(value),
        "the secret value came back: {created}"
    );
    let get_secret = format!(
        "secrets \"walt-key\" is forbidden: User \"{walt_user}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"kagent\""
    );
    walt.forbidden(
        "GET",
        &format!("{SECRETS_PATH}/walt-key"),
        None,
        &get_secret,
    );
    walt.forbidden(
        "GET",
        SECRETS_PATH,
        None,
        &forbidden(&walt_user, "list", "secrets", "", true),
    );
    assert!(walt.can_i("create", "", "secrets"));
    assert!(!walt.can_i("get", "", "secrets"));
    assert!(walt.can_i("delete", "kagent.dev", "mcpservers"));
    assert!(!walt.can_i("create", "rbac.authorization.k8s.io", "rolebindings"));

    // Admins (groups: [admins] -> global.Admin): everything.
    let alice = persona("alice-admins");
    let secrets = alice.expect(200, "GET", SECRETS_PATH, None);
    let names: Vec<&str> = secrets["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {secrets}"))
        .iter()
        .filter_map(|s| s["metadata"]["name"].as_str())
        .collect();
    assert!(names.contains(&"walt-key"), "{secrets}");
    assert!(
        !secrets.to_string().contains(value),
        "the secret value came back: {secrets}"
    );
    // She grants the guest (authenticated, no mapped group) reading rights.
    let nobody_user = format!("{PROVIDER}:nobody@example.com");
    alice.expect(
        201,
        "POST",
        CRB_PATH,
        Some(&binding("nobody-reads", &nobody_user, "global.Reader")),
    );
    assert!(alice.can_i("get", "", "secrets"));

    // Authenticated, but no mapped group or no groups claim at all: nothing
    // (until bound by name).
    let bare = persona("bare");
    let bare_user = format!("{PROVIDER}:bare");
    bare.forbidden(
        "GET",
        MCPS_PATH,
        None,
        &forbidden(&bare_user, "list", "mcpservers", "kagent.dev", true),
    );
    bare.forbidden(
        "GET",
        AGENTS_PATH,
        None,
        &forbidden(&bare_user, "list", "agents", "kagent.dev", true),
    );
    bare.forbidden(
        "POST",
        MCPS_PATH,
        Some(&mcp_server("bare-was-here")),
        &forbidden(&bare_user, "create", "mcpservers", "kagent.dev", true),
    );
    bare.forbidden(
        "GET",
        SECRETS_PATH,
        None,
        &forbidden(&bare_user, "list", "secrets", "", true),
    );
    bare.forbidden(
        "POST",
        CRB_PATH,
        Some(&binding("bare-admin", &bare_user, "global.Admin")),
        &forbidden(
            &bare_user,
            "create",
            "clusterrolebindings",
            "rbac.authorization.k8s.io",
            false,
        ),
    );
    assert!(!bare.can_i("get", "kagent.dev", "mcpservers"));
    let nobody = persona("nobody");
    nobody.forbidden(
        "POST",
        MCPS_PATH,
        Some(&mcp_server("nobody-was-here")),
        &forbidden(&nobody_user, "create", "mcpservers", "kagent.dev", true),
    );
    nobody.forbidden(
        "GET",
        SECRETS_PATH,
        None,
        &forbidden(&nobody_user, "list", "secrets", "", true),
    );
    // ... but alice's binding names the user: nobody@example.com now reads.
    nobody.expect(200, "GET", MCPS_PATH, None);
    assert!(nobody.can_i("list", "kagent.dev", "agents"));
    assert!(!nobody.can_i("create", "kagent.dev", "agents"));
    for name in ["rita-was-here", "bare-was-here", "nobody-was-here"] {
        admin.expect(404, "GET", &format!("{MCPS_PATH}/{name}"), None);
    }

    // Every refusal is audited under the OIDC user's name.
    for (principal, expected) in [
        (&rita_user, vec![create_mcps.clone(), list_secrets.clone()]),
        (
            &walt_user,
            vec![
                get_secret.clone(),
                forbidden(
                    &walt_user,
                    "create",
                    "clusterrolebindings",
                    "rbac.authorization.k8s.io",
                    false,
                ),
            ],
        ),
        (
            &bare_user,
            vec![
                forbidden(&bare_user, "list", "mcpservers", "kagent.dev", true),
                forbidden(&bare_user, "create", "mcpservers", "kagent.dev", true),
                forbidden(&bare_user, "list", "secrets", "", true),
            ],
        ),
        (
            &nobody_user,
            vec![forbidden(
                &nobody_user,
                "create",
                "mcpservers",
                "kagent.dev",
                true,
            )],
        ),
    ] {
        let events = denied_events(&admin, principal);
        for reason in expected {
            assert!(
                events.iter().any(|e| e.contains(&reason)),
                "{reason:?} is not audited for {principal}: {events:#?}"
            );
        }
    }
    // ... and only refusals: alice was never refused.
    let alice_events = denied_events(&admin, &format!("{PROVIDER}:alice@example.com"));
    assert!(alice_events.is_empty(), "{alice_events:#?}");
}

#[test]
fn tokens_that_do_not_verify_are_unauthorized() {
    let dir = TempDir::new("oidc-refused");
    let files = TempDir::new("oidc-refused-files");
    let idp = Idp::start(files.path(), "idp");
    let palisade = start_palisade(&dir, &files, &idp);
    let admin = Api::admin(&palisade);

    let alice_token = idp.token("alice-admins", RESOURCE);
    let alice = admin.with_token(&alice_token);
    alice.expect(200, "GET", SECRETS_PATH, None);

    // A token of the same issuer for another API.
    let elsewhere = idp.token("alice-admins", OTHER_RESOURCE);
    admin
        .with_token(&elsewhere)
        .unauthorized("a token for another audience", "audience");

    // The signature changed in its middle (the last character of a base64url
    // signature may only carry padding bits).
    let (signed, signature) = alice_token.rsplit_once('.').unwrap();
    let mut flipped: Vec<char> = signature.chars().collect();
    let middle = flipped.len() / 2;
    flipped[middle] = if flipped[middle] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{signed}.{}", flipped.into_iter().collect::<String>());
    admin
        .with_token(&tampered)
        .unauthorized("a tampered signature", "signature");

    // A reader's token carrying the admin's claims: rita's signature on
    // alice's header and payload.
    let rita_token = idp.token("rita-readers", RESOURCE);
    let rita_signature = rita_token.rsplit_once('.').unwrap().1;
    admin
        .with_token(&format!("{signed}.{rita_signature}"))
        .unauthorized("claims swapped under a signature", "signature");

    // alg none: alice's claims, unsigned.
    let payload = signed.split_once('.').unwrap().1;
    let unsigned = format!("eyJhbGciOiJub25lIn0.{payload}.");
    admin
        .with_token(&unsigned)
        .unauthorized("an unsigned token (alg none)", "algorithm");

    // A real token of an issuer no OIDCProvider names.
    let stranger = Idp::start(files.path(), "stranger");
    let foreign = stranger.token("alice-admins", RESOURCE);
    admin
        .with_token(&foreign)
        .unauthorized("a token of an unknown issuer", "not valid here");

    // None of that broke the provider: the real token still works, and no
    // refusal was taken for alice's (forged) doing.
    alice.expect(200, "GET", SECRETS_PATH, None);
    let alice_events = denied_events(&admin, &format!("{PROVIDER}:alice@example.com"));
    assert!(alice_events.is_empty(), "{alice_events:#?}");
    // Each failed authentication is audited, as the anonymous user.
    let anonymous = denied_events(&admin, "system:anonymous");
    for reason in ["audience", "signature", "algorithm", "not valid here"] {
        assert!(
            anonymous.iter().any(|e| e.contains(reason)),
            "no audited 401 mentioning {reason}: {anonymous:#?}"
        );
    }
}
