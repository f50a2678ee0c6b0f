//! The request handler: authenticate, impersonate, authorize, then list,
//! get, create, update, patch, delete or watch objects in the store, with
//! every write validated, dry-run against the whole configuration and
//! audited.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use palisade_api::kinds::KindEntry;
use palisade_rbac::{Action, Authorizer, forbidden_message};
use palisade_store::{
    AuditQuery, AuditRecord, ListQuery, ObjectKey, Outcome, Selector, Store, Timestamp, WatchQuery,
};
use serde_json::{Value, json};

use crate::authn::{Authenticator, Caller};
use crate::config::{Change, Configuration};
use crate::objects;
use crate::paths::{self, AUDIT_GROUP, ResourcePath, Route};
use crate::status::ApiError;
use crate::tokens::{DEFAULT_LIFETIME, TokenIssuer};
use crate::{escalation, openapi, patch};

/// Largest request body accepted.
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// How long a write waits for the served configuration to include it.
const SYNC_WAIT: Duration = Duration::from_secs(5);

/// Errors a response body can yield.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Response bodies.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// The admin API.
pub struct ApiServer {
    store: Arc<dyn Store>,
    config: Arc<dyn Configuration>,
    authn: Authenticator,
    tokens: Arc<TokenIssuer>,
}

impl ApiServer {
    /// An API over `store`, for the configuration `config` serves.
    pub fn new(
        store: Arc<dyn Store>,
        config: Arc<dyn Configuration>,
        authn: Authenticator,
        tokens: Arc<TokenIssuer>,
    ) -> ApiServer {
        ApiServer {
            store,
            config,
            authn,
            tokens,
        }
    }

    /// Whether `path` is one of the API's paths.
    pub fn serves(path: &str) -> bool {
        !matches!(paths::parse(path), Ok(None))
    }

    /// Answers an API request; `None` when the path is not an API path.
    pub async fn handle(&self, req: Request<Incoming>) -> Option<Response<Body>> {
        let route = match paths::parse(req.uri().path()) {
            Ok(None) => return None,
            Ok(Some(route)) => route,
            Err(e) => return Some(error_response(&e)),
        };
        Some(match self.serve(req, route).await {
            Ok(response) => response,
            Err(e) => error_response(&e),
        })
    }

    async fn serve(
        &self,
        req: Request<Incoming>,
        route: Route,
    ) -> Result<Response<Body>, ApiError> {
        match route {
            Route::OpenApi => return Ok(json_response(StatusCode::OK, &openapi::document())),
            Route::Discovery => {
                let issuer = self.tokens.issuer();
                let jwks = format!("{}/openid/v1/jwks", issuer.trim_end_matches('/'));
                return Ok(json_response(
                    StatusCode::OK,
                    &palisade_identity::oidc_discovery(issuer, &jwks),
                ));
            }
            Route::Jwks => return Ok(json_response(StatusCode::OK, &self.tokens.jwks())),
            Route::LoginProviders => {
                return Ok(json_response(
                    StatusCode::OK,
                    &json!({"providers": self.config.login_providers()}),
                ));
            }
            _ => {}
        }
        let user = match self
            .authn
            .authenticate(req.headers(), self.config.as_ref())
            .await
        {
            Ok(user) => user,
            Err(e) => {
                let anonymous = Caller {
                    user: palisade_rbac::User {
                        name: "system:anonymous".into(),
                        groups: Vec::new(),
                    },
                    impersonator: None,
                };
                let verb = req.method().as_str().to_ascii_lowercase();
                let key = ObjectKey::new("", "", "", req.uri().path());
                self.audit(&anonymous, &verb, key, Outcome::Denied, Some(&e.message))
                    .await;
                return Err(e);
            }
        };
        let authz = self.config.authorizer();
        let caller = match self.authn.impersonate(user.clone(), req.headers(), &authz) {
            Ok(c) => c,
            Err(e) => {
                let caller = Caller {
                    user,
                    impersonator: None,
                };
                let key = ObjectKey::new("", "User", "", "");
                self.audit(
                    &caller,
                    "impersonate",
                    key,
                    Outcome::Denied,
                    Some(&e.message),
                )
                .await;
                return Err(e);
            }
        };
        match route {
            Route::Resource(path) => self.resource(req, path, &caller, &authz).await,
            Route::Token { namespace, name } => {
                self.token(req, &namespace, &name, &caller, &authz).await
            }
            Route::AccessReview => self.access_review(req, &caller, &authz).await,
            Route::Audit => self.audit_query(&req, &caller, &authz).await,
            Route::OpenApi | Route::Discovery | Route::Jwks | Route::LoginProviders => {
                unreachable!("answered above")
            }
        }
    }

    async fn resource(
        &self,
        req: Request<Incoming>,
        path: ResourcePath,
        caller: &Caller,
        authz: &Authorizer,
    ) -> Result<Response<Body>, ApiError> {
        let query = Query::parse(req.uri().query());
        let method = req.method().clone();
        let verb = match (&method, path.name.is_some()) {
            (&Method::GET, true) => "get",
            (&Method::GET, false) if query.flag("watch") => "watch",
            (&Method::GET, false) => "list",
            (&Method::POST, false) => "create",
            (&Method::PUT, true) => "update",
            (&Method::PATCH, true) => "patch",
            (&Method::DELETE, true) => "delete",
            _ => {
                return Err(ApiError::method_not_allowed(format!(
                    "{method} is not allowed on {}; see docs/admin-api.md",
                    req.uri().path()
                )));
            }
        };
        let meta = &path.kind.meta;
        let action = Action {
            verb,
            group: meta.group,
            resource: meta.plural,
            subresource: None,
            namespace: path.namespace.as_deref(),
            name: path.name.as_deref(),
        };
        let key = ObjectKey::new(
            meta.group,
            meta.kind,
            path.namespace.clone().unwrap_or_default(),
            path.name.clone().unwrap_or_default(),
        );
        self.authorize(caller, authz, &action, &key).await?;
        match verb {
            "get" => {
                let object = self
                    .store
                    .get(&key)
                    .await
                    .map_err(|e| not_found_as_kubectl(e, path.kind, &key))?;
                Ok(json_response(StatusCode::OK, &self.present(object)))
            }
            "list" => {
                self.list(path.kind, path.namespace.as_deref(), &query)
                    .await
            }
            "watch" => self.watch(path.kind, path.namespace, &query).await,
            "delete" => {
                if let Some(file) = self.config.file_source(&key) {
                    return Err(read_only(&key, &file));
                }
                self.admit(Change::Delete(&key))?;
                let result = self.store.delete(&key, None).await;
                let deleted = self
                    .finish_write(caller, "delete", key.clone(), result)
                    .await
                    .map_err(|e| not_found_as_kubectl(e, path.kind, &key))?;
                Ok(json_response(StatusCode::OK, &self.present(deleted)))
            }
            _ => {
                let body = read_body(req).await?;
                self.write(verb, path, key, body, caller, authz).await
            }
        }
    }

    /// Create, update or patch.
    async fn write(
        &self,
        verb: &str,
        path: ResourcePath,
        key: ObjectKey,
        body: (Option<String>, Bytes),
        caller: &Caller,
        authz: &Authorizer,
    ) -> Result<Response<Body>, ApiError> {
        let (content_type, bytes) = body;
        let (object, key, created) = match verb {
            "patch" => {
                let existing = match self.store.get(&key).await {
                    Ok(existing) => Some(existing),
                    Err(palisade_store::StoreError::NotFound { .. }) => None,
                    Err(e) => return Err(e.into()),
                };
                let patched = patch::apply(content_type.as_deref(), &bytes, existing.as_ref())?;
                let object = objects::normalize(patched, path.kind, path.namespace.as_deref())?;
                (object, key, existing.is_none())
            }
            _ => {
                let object = objects::parse_json(&bytes)?;
                let object = objects::normalize(object, path.kind, path.namespace.as_deref())?;
                let object_key = ObjectKey::of(&object)?;
                if verb == "update" && object_key != key {
                    return Err(ApiError::bad_request(format!(
                        "the object's name or namespace ({}/{}) differs from the URL's ({}/{})",
                        object_key.namespace, object_key.name, key.namespace, key.name
                    )));
                }
                (object, object_key, verb == "create")
            }
        };
        if let Some(file) = self.config.file_source(&key) {
            return Err(read_only(&key, &file));
        }
        objects::validate(&object)?;
        if let Err(e) = escalation::check(authz, &caller.user, &key, &object) {
            self.audit(caller, verb, key.clone(), Outcome::Denied, Some(&e.message))
                .await;
            return Err(e);
        }
        let object = if !created && key.is_secret() {
            objects::keep_secret_data(object, &self.store, &key).await?
        } else {
            object
        };
        self.admit(Change::Put(&object))?;
        if !key.namespace.is_empty() && !self.config.namespace_exists(&key.namespace) {
            self.create_namespace(caller, &key.namespace).await?;
        }
        let result = if created {
            self.store.create(object).await
        } else {
            self.store.update(object).await
        };
        let audit_verb = if created { "create" } else { verb };
        let stored = self
            .finish_write(caller, audit_verb, key.clone(), result)
            .await
            .map_err(|e| match e {
                palisade_store::StoreError::AlreadyExists { .. } => ApiError::new(
                    StatusCode::CONFLICT,
                    "AlreadyExists",
                    format!("{} \"{}\" already exists", qualified(path.kind), key.name),
                ),
                other => not_found_as_kubectl(other, path.kind, &key),
            })?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(json_response(status, &self.present(stored)))
    }

    /// Dry-runs a change against the whole configuration.
    fn admit(&self, change: Change<'_>) -> Result<(), ApiError> {
        self.config.admit(change).map_err(|errors| {
            ApiError::invalid(format!(
                "the change would break the configuration, so nothing was changed:\n{}",
                errors.join("\n")
            ))
        })
    }

    /// Creates a namespace a write names for the first time.
    async fn create_namespace(&self, caller: &Caller, namespace: &str) -> Result<(), ApiError> {
        let object =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
        let key = ObjectKey::new("", "Namespace", "", namespace);
        match self.store.create(object).await {
            Ok(_) => {
                self.audit(
                    caller,
                    "create",
                    key,
                    Outcome::Allowed,
                    Some("created for the first object that names it"),
                )
                .await;
                Ok(())
            }
            Err(palisade_store::StoreError::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Audits a write's result and waits until the served configuration has it.
    async fn finish_write(
        &self,
        caller: &Caller,
        verb: &str,
        key: ObjectKey,
        result: palisade_store::Result<Value>,
    ) -> palisade_store::Result<Value> {
        match &result {
            Ok(stored) => {
                self.audit(caller, verb, key, Outcome::Allowed, None).await;
                if let Some(revision) = objects::revision_of(stored) {
                    let _ = tokio::time::timeout(SYNC_WAIT, self.config.synced(revision)).await;
                }
            }
            Err(e) => {
                self.audit(caller, verb, key, Outcome::Error, Some(&e.to_string()))
                    .await;
            }
        }
        result
    }

    async fn list(
        &self,
        kind: &'static KindEntry,
        namespace: Option<&str>,
        query: &Query,
    ) -> Result<Response<Body>, ApiError> {
        let mut list = ListQuery::kind(kind.meta.group, kind.meta.kind);
        if let Some(ns) = namespace {
            list = list.in_namespace(ns);
        }
        if let Some(selector) = query.get("labelSelector") {
            list = list.with_selector(Selector::parse(selector)?);
        }
        let result = self.store.list(&list).await?;
        let items: Vec<Value> = result.items.into_iter().map(|o| self.present(o)).collect();
        Ok(json_response(
            StatusCode::OK,
            &json!({
                "apiVersion": "v1",
                "kind": "List",
                "metadata": {"resourceVersion": result.revision.to_string()},
                "items": items,
            }),
        ))
    }

    async fn watch(
        &self,
        kind: &'static KindEntry,
        namespace: Option<String>,
        query: &Query,
    ) -> Result<Response<Body>, ApiError> {
        let label_selector = query
            .get("labelSelector")
            .map(Selector::parse)
            .transpose()?;
        let since = match query.get("resourceVersion") {
            Some(v) if !v.is_empty() && v != "0" => Some(v.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("resourceVersion {v:?} is not a number"))
            })?),
            _ => None,
        };
        let mut initial = Vec::new();
        let since = match since {
            Some(revision) => revision,
            None => {
                // Without a starting point, the current objects come first.
                let mut list = ListQuery::kind(kind.meta.group, kind.meta.kind);
                if let Some(ns) = &namespace {
                    list = list.in_namespace(ns.clone());
                }
                if let Some(s) = &label_selector {
                    list = list.with_selector(s.clone());
                }
                let result = self.store.list(&list).await?;
                initial = result.items;
                result.revision
            }
        };
        let watch = self
            .store
            .watch(WatchQuery {
                group: Some(kind.meta.group.to_string()),
                kind: Some(kind.meta.kind.to_string()),
                namespace,
                label_selector,
                since_revision: Some(since),
            })
            .await?;
        let present = |object: Value| objects::redact(object);
        let first: Vec<Result<Frame<Bytes>, BoxError>> = initial
            .into_iter()
            .map(|o| {
                Ok(Frame::data(line(
                    &json!({"type": "ADDED", "object": present(o)}),
                )))
            })
            .collect();
        let events = futures_util::stream::unfold(watch, move |mut watch| async move {
            let event = watch.next().await?;
            let frame = match event {
                Ok(e) => Ok(Frame::data(line(
                    &json!({"type": e.event_type.as_str(), "object": objects::redact(e.object)}),
                ))),
                Err(e) => Ok(Frame::data(line(&json!({
                    "type": "ERROR",
                    "object": ApiError::from(e).to_json(),
                })))),
            };
            Some((frame, watch))
        });
        let stream = futures_util::stream::iter(first).chain(events);
        let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json;stream=watch"),
        );
        Ok(response)
    }

    /// `POST .../serviceaccounts/{name}/token`: a signed token for the account.
    async fn token(
        &self,
        req: Request<Incoming>,
        namespace: &str,
        name: &str,
        caller: &Caller,
        authz: &Authorizer,
    ) -> Result<Response<Body>, ApiError> {
        if req.method() != Method::POST {
            return Err(ApiError::method_not_allowed(
                "POST a TokenRequest to get a token",
            ));
        }
        let action = Action {
            verb: "create",
            group: "",
            resource: "serviceaccounts",
            subresource: Some("token"),
            namespace: Some(namespace),
            name: Some(name),
        };
        let key = ObjectKey::new("", "ServiceAccount", namespace, name);
        self.authorize(caller, authz, &action, &key).await?;
        let (_, bytes) = read_body(req).await?;
        let request = if bytes.is_empty() {
            json!({})
        } else {
            objects::parse_json(&bytes)?
        };
        let lifetime = request
            .pointer("/spec/expirationSeconds")
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_LIFETIME);
        let Some(uid) = self.config.service_account_uid(namespace, name) else {
            return Err(ApiError::not_found(format!(
                "serviceaccounts \"{name}\" not found"
            )));
        };
        let issued = self
            .tokens
            .issue(
                namespace,
                name,
                &uid,
                lifetime,
                self.config.is_agent(namespace, name),
            )
            .map_err(ApiError::internal)?;
        self.audit(caller, "create token", key, Outcome::Allowed, None)
            .await;
        Ok(json_response(
            StatusCode::CREATED,
            &json!({
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"audiences": [crate::tokens::AUDIENCE]},
                "status": {
                    "token": issued.token,
                    "expirationTimestamp": Timestamp::from_micros(issued.expires * 1_000_000).to_rfc3339(),
                },
            }),
        ))
    }

    /// `POST selfsubjectaccessreviews`: may the caller do this?
    async fn access_review(
        &self,
        req: Request<Incoming>,
        caller: &Caller,
        authz: &Authorizer,
    ) -> Result<Response<Body>, ApiError> {
        if req.method() != Method::POST {
            return Err(ApiError::method_not_allowed(
                "POST a SelfSubjectAccessReview",
            ));
        }
        let (_, bytes) = read_body(req).await?;
        let mut review = objects::parse_json(&bytes)?;
        let attrs = review
            .pointer("/spec/resourceAttributes")
            .cloned()
            .ok_or_else(|| {
                ApiError::bad_request(
                    "spec.resourceAttributes {verb, group, resource, namespace, name} is required",
                )
            })?;
        let field = |name: &str| {
            attrs
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let verb = field("verb")
            .ok_or_else(|| ApiError::bad_request("spec.resourceAttributes.verb is required"))?;
        let resource = field("resource")
            .ok_or_else(|| ApiError::bad_request("spec.resourceAttributes.resource is required"))?;
        let action = Action {
            verb,
            group: field("group").unwrap_or(""),
            resource,
            subresource: field("subresource"),
            namespace: field("namespace"),
            name: field("name"),
        };
        let decision = authz.decide(&caller.user, &action);
        let status = match &decision {
            palisade_rbac::Decision::Allowed { by } => {
                json!({"allowed": true, "reason": format!("allowed by {by}")})
            }
            palisade_rbac::Decision::Denied => json!({
                "allowed": false,
                "reason": forbidden_message(&caller.user, &action),
            }),
        };
        review["status"] = status;
        Ok(json_response(StatusCode::CREATED, &review))
    }

    /// `GET /apis/audit.palisade.dev/v1/events`.
    async fn audit_query(
        &self,
        req: &Request<Incoming>,
        caller: &Caller,
        authz: &Authorizer,
    ) -> Result<Response<Body>, ApiError> {
        if req.method() != Method::GET {
            return Err(ApiError::method_not_allowed("GET audit events"));
        }
        let action = Action {
            verb: "list",
            group: AUDIT_GROUP,
            resource: "events",
            subresource: None,
            namespace: None,
            name: None,
        };
        let key = ObjectKey::new(AUDIT_GROUP, "Event", "", "");
        self.authorize(caller, authz, &action, &key).await?;
        let query = Query::parse(req.uri().query());
        let time = |name: &str| {
            query
                .get(name)
                .map(|t| {
                    Timestamp::parse_rfc3339(t)
                        .map_err(|e| ApiError::bad_request(format!("{name}: {e}")))
                })
                .transpose()
        };
        let outcome = query
            .get("outcome")
            .map(|o| o.parse::<Outcome>().map_err(ApiError::bad_request))
            .transpose()?;
        let limit = query
            .get("limit")
            .map(|l| {
                l.parse::<usize>()
                    .map_err(|_| ApiError::bad_request(format!("limit {l:?} is not a number")))
            })
            .transpose()?;
        let audit = AuditQuery {
            principal: query.get("principal").map(str::to_string),
            kind: query.get("kind").map(str::to_string),
            name: query.get("name").map(str::to_string),
            namespace: query.get("namespace").map(str::to_string),
            outcome,
            since: time("since")?,
            until: time("until")?,
            limit,
            ..AuditQuery::default()
        };
        let records = self.store.query_audit(&audit).await?;
        let items: Vec<Value> = records.iter().map(objects::audit_json).collect();
        Ok(json_response(
            StatusCode::OK,
            &json!({"apiVersion": "audit.palisade.dev/v1", "kind": "EventList", "items": items}),
        ))
    }

    /// Refuses (and audits) what RBAC does not allow.
    async fn authorize(
        &self,
        caller: &Caller,
        authz: &Authorizer,
        action: &Action<'_>,
        key: &ObjectKey,
    ) -> Result<(), ApiError> {
        if authz.decide(&caller.user, action).allowed() {
            return Ok(());
        }
        let message = forbidden_message(&caller.user, action);
        self.audit(
            caller,
            action.verb,
            key.clone(),
            Outcome::Denied,
            Some(&message),
        )
        .await;
        Err(ApiError::forbidden(message).with_details(json!({
            "group": action.group,
            "kind": action.resource,
            "name": action.name.unwrap_or_default(),
        })))
    }

    async fn audit(
        &self,
        caller: &Caller,
        verb: &str,
        resource: ObjectKey,
        outcome: Outcome,
        reason: Option<&str>,
    ) {
        let record = AuditRecord {
            time: Timestamp::now(),
            principal: caller.user.name.clone(),
            verb: verb.to_string(),
            resource,
            outcome,
            reason: reason.map(str::to_string),
            source: "api".to_string(),
            details: match &caller.impersonator {
                Some(by) => json!({"impersonatedBy": by}),
                None => json!({}),
            },
        };
        if let Err(e) = self.store.append_audit(record).await {
            tracing::error!(error = %e, "cannot append to the audit log");
        }
    }

    /// An object as the API returns it: Secret data removed, status computed.
    fn present(&self, object: Value) -> Value {
        let mut object = objects::redact(object);
        if let Ok(key) = ObjectKey::of(&object) {
            object["status"] = self.config.status_of(&key);
        }
        object
    }
}

/// The query string's parameters.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Query {
        Query(
            query
                .unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1"))
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' => {
                match (
                    bytes.get(i + 1).and_then(|b| hex(*b)),
                    bytes.get(i + 2).and_then(|b| hex(*b)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn read_body(req: Request<Incoming>) -> Result<(Option<String>, Bytes), ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase());
    let bytes = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                format!("the request body is larger than {MAX_BODY} bytes, or unreadable"),
            )
        })?
        .to_bytes();
    Ok((content_type, bytes))
}

/// `plural.group` (or the plural alone for the core group).
fn qualified(kind: &KindEntry) -> String {
    if kind.meta.group.is_empty() {
        kind.meta.plural.to_string()
    } else {
        format!("{}.{}", kind.meta.plural, kind.meta.group)
    }
}

fn not_found_as_kubectl(
    e: palisade_store::StoreError,
    kind: &KindEntry,
    key: &ObjectKey,
) -> ApiError {
    match e {
        palisade_store::StoreError::NotFound { .. } => {
            ApiError::not_found(format!("{} \"{}\" not found", qualified(kind), key.name))
                .with_details(
                    json!({"group": kind.meta.group, "kind": kind.meta.plural, "name": key.name}),
                )
        }
        other => other.into(),
    }
}

fn read_only(key: &ObjectKey, file: &str) -> ApiError {
    ApiError::conflict(format!(
        "{}/{} is defined in {file}, which `palisade run -f` reads: it is read-only through the API; edit the file instead",
        key.kind, key.name
    ))
}

fn line(value: &Value) -> Bytes {
    let mut text = value.to_string();
    text.push('\n');
    Bytes::from(text)
}

/// A JSON response.
pub fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from(value.to_string()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An error as a `Status` response.
pub fn error_response(e: &ApiError) -> Response<Body> {
    json_response(e.code, &e.to_json())
}
