//! The conformance suite: every backend must pass every case.
//!
//! [`conformance!`] turns each case into one test per backend.

use std::sync::Arc;
use std::time::Duration;

use palisade_store::{
    AgentRecord, AgentRecordQuery, AuditQuery, AuditRecord, EventType, ListQuery, MAX_RECORD_BYTES,
    ObjectKey, Outcome, RecordKind, Selector, Store, StoreError, StoreOptions, Timestamp,
    WatchQuery,
};
use serde_json::{Value, json};

use crate::common::*;

/// One `#[tokio::test]` per case for the harness built by `$harness`.
macro_rules! conformance {
    ($harness:expr) => {
        conformance!(@cases $harness;
            crud, conflicts, generation, revisions, lists_and_selectors, pagination,
            watch_from_now, watch_resume, compaction, slow_watch_expires, no_lost_updates, restart,
            secrets_encrypted, wrong_key, moved_ciphertext, audit, invalid_objects,
            agent_records, agent_record_lists, agent_records_restart);
    };
    (@cases $harness:expr; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let harness = $harness;
                $crate::cases::$case(&harness).await;
            }
        )*
    };
}
pub(crate) use conformance;

pub async fn crud(h: &impl Harness) {
    let store = h.open().await;
    let object = agent(
        "team-a",
        "alpha",
        json!({"app": "web"}),
        json!({"model": "m1"}),
    );
    let key = key_of(&object);

    let created = store.create(object.clone()).await.unwrap();
    let md = &created["metadata"];
    assert_eq!(md["generation"], 1);
    assert_eq!(md["resourceVersion"], "1");
    assert_eq!(md["uid"].as_str().unwrap().len(), 36);
    let stamp = md["creationTimestamp"].as_str().unwrap();
    assert!(Timestamp::parse_rfc3339(stamp).is_ok(), "{stamp}");
    assert_eq!(created["spec"], object["spec"]);

    assert_eq!(store.get(&key).await.unwrap(), created);

    let err = store.create(object.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    assert!(
        err.to_string().contains("Agent.palisade.io team-a/alpha"),
        "{err}"
    );

    let mut changed = created.clone();
    changed["spec"]["model"] = json!("m2");
    let updated = store.update(changed).await.unwrap();
    assert_eq!(updated["spec"]["model"], "m2");
    assert_eq!(updated["metadata"]["resourceVersion"], "2");
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(store.get(&key).await.unwrap(), updated);

    let deleted = store.delete(&key, None).await.unwrap();
    assert_eq!(deleted["spec"]["model"], "m2");
    assert_eq!(deleted["metadata"]["resourceVersion"], "3");
    let err = store.get(&key).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert!(matches!(
        store.delete(&key, None).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.update(object.clone()).await,
        Err(StoreError::NotFound { .. })
    ));

    // Created again: a new uid.
    let again = store.create(object).await.unwrap();
    assert_ne!(again["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(again["metadata"]["generation"], 1);
}

pub async fn conflicts(h: &impl Harness) {
    let store = h.open().await;
    let created = store
        .create(config_map("ns", "c", json!({"n": "0"})))
        .await
        .unwrap();
    let key = key_of(&created);

    let mut first = created.clone();
    first["data"]["n"] = json!("1");
    let first = store.update(first).await.unwrap();

    // A writer that read before the first update is refused.
    let mut stale = created.clone();
    stale["data"]["n"] = json!("stale");
    match store.update(stale.clone()).await {
        Err(StoreError::Conflict { current, given, .. }) => {
            assert_eq!(current, rv(&first));
            assert_eq!(given, rv(&created));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.get(&key).await.unwrap()["data"]["n"], "1");

    // Without a resourceVersion the update is unconditional.
    stale["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    let forced = store.update(stale).await.unwrap();
    assert_eq!(forced["data"]["n"], "stale");

    // Deletes honour their precondition too.
    let err = store.delete(&key, Some(&rv(&first))).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("read it again"), "{err}");
    store.delete(&key, Some(&rv(&forced))).await.unwrap();
}

pub async fn generation(h: &impl Harness) {
    let store = h.open().await;
    let created = store
        .create(agent("ns", "g", json!({"a": "1"}), json!({"replicas": 1})))
        .await
        .unwrap();

    let mut labels = created.clone();
    labels["metadata"]["labels"]["b"] = json!("2");
    labels["metadata"]["annotations"] = json!({"note": "x"});
    let labels = store.update(labels).await.unwrap();
    assert_eq!(labels["metadata"]["generation"], 1, "metadata change");
    assert_ne!(rv(&labels), rv(&created));

    let mut status = labels.clone();
    status["status"] = json!({"ready": true});
    let status = store.update(status).await.unwrap();
    assert_eq!(status["metadata"]["generation"], 1, "status change");

    let mut spec = status.clone();
    spec["spec"]["replicas"] = json!(2);
    let spec = store.update(spec).await.unwrap();
    assert_eq!(spec["metadata"]["generation"], 2, "spec change");

    // Client-sent store fields are ignored.
    let mut forged = spec.clone();
    forged["metadata"]["generation"] = json!(40);
    forged["metadata"]["uid"] = json!("forged");
    forged["metadata"]["creationTimestamp"] = json!("2000-01-01T00:00:00Z");
    forged["spec"]["replicas"] = json!(3);
    let forged = store.update(forged).await.unwrap();
    assert_eq!(forged["metadata"]["generation"], 3);
    assert_eq!(forged["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(
        forged["metadata"]["creationTimestamp"],
        created["metadata"]["creationTimestamp"]
    );

    // An update that changes nothing writes nothing.
    let before = store.revision().await.unwrap();
    let same = store.update(forged.clone()).await.unwrap();
    assert_eq!(same, forged);
    assert_eq!(store.revision().await.unwrap(), before);
}

pub async fn revisions(h: &impl Harness) {
    let store = h.open().await;
    assert_eq!(store.revision().await.unwrap(), 0);
    let mut last = 0;
    for i in 0..5 {
        let created = store.create(tenant(&format!("t{i}"))).await.unwrap();
        let revision: i64 = rv(&created).parse().unwrap();
        assert_eq!(revision, last + 1);
        last = revision;
    }
    // A failed write takes no revision.
    assert!(store.create(tenant("t0")).await.is_err());
    assert_eq!(store.revision().await.unwrap(), last);
    let page = store.list(&ListQuery::all()).await.unwrap();
    assert_eq!(page.revision, last);
}

pub async fn lists_and_selectors(h: &impl Harness) {
    let store = h.open().await;
    let objects = [
        agent(
            "a",
            "web-1",
            json!({"app": "web", "tier": "front"}),
            json!({}),
        ),
        agent("a", "db-1", json!({"app": "db", "tier": "back"}), json!({})),
        agent(
            "b",
            "web-2",
            json!({"app": "web", "tier": "front", "legacy": "yes"}),
            json!({}),
        ),
        agent("b", "cache", json!({}), json!({})),
        config_map("a", "settings", json!({})),
        tenant("acme"),
    ];
    for o in objects {
        store.create(o).await.unwrap();
    }
    let list = |q: ListQuery| {
        let store = Arc::clone(&store);
        async move { names(&store.list(&q).await.unwrap().items) }
    };
    let agents = || ListQuery::kind("palisade.io", "Agent");
    let sel = |s: &str| Selector::parse(s).unwrap();

    assert_eq!(list(agents()).await, ["db-1", "web-1", "cache", "web-2"]);
    assert_eq!(list(agents().in_namespace("b")).await, ["cache", "web-2"]);
    assert_eq!(
        list(agents().in_namespace("none")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(ListQuery::all().in_namespace("a")).await,
        ["settings", "db-1", "web-1"]
    );
    assert_eq!(list(ListQuery::all().in_namespace("")).await, ["acme"]);
    assert_eq!(list(ListQuery::all()).await.len(), 6);
    let all_palisade = ListQuery {
        group: Some("palisade.io".into()),
        ..ListQuery::default()
    };
    assert_eq!(list(all_palisade).await.len(), 5);

    assert_eq!(
        list(agents().with_selector(sel("app=web"))).await,
        ["web-1", "web-2"]
    );
    assert_eq!(
        list(agents().with_selector(sel("app=web,!legacy"))).await,
        ["web-1"]
    );
    assert_eq!(
        list(agents().with_selector(sel("app!=web"))).await,
        ["db-1", "cache"]
    );
    assert_eq!(
        list(agents().with_selector(sel("tier in (back, front),app notin (web)"))).await,
        ["db-1"]
    );
    assert_eq!(list(agents().with_selector(sel("legacy"))).await, ["web-2"]);
    assert_eq!(
        list(agents().in_namespace("b").with_selector(sel("app"))).await,
        ["web-2"]
    );
}

pub async fn pagination(h: &impl Harness) {
    let store = h.open().await;
    for i in 0..23 {
        let app = if i % 3 == 0 { "odd" } else { "web" };
        store
            .create(agent(
                "ns",
                &format!("a{i:02}"),
                json!({"app": app}),
                json!({}),
            ))
            .await
            .unwrap();
    }
    let selector = Selector::parse("app=web").unwrap();
    let mut query = ListQuery::kind("palisade.io", "Agent")
        .with_selector(selector)
        .with_limit(4);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.list(&query).await.unwrap();
        assert!(page.items.len() <= 4);
        seen.extend(names(&page.items));
        pages += 1;
        match page.continue_token {
            Some(token) => query.continue_token = Some(token),
            None => break,
        }
        assert!(pages < 20, "pagination does not end");
    }
    let expected: Vec<String> = (0..23)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("a{i:02}"))
        .collect();
    assert_eq!(seen, expected);

    let whole = store
        .list(&ListQuery::kind("palisade.io", "Agent"))
        .await
        .unwrap();
    assert_eq!(whole.items.len(), 23);
    assert_eq!(whole.continue_token, None);

    let bad = ListQuery::all().continue_from("garbage!");
    assert!(matches!(
        store.list(&bad).await,
        Err(StoreError::InvalidQuery(_))
    ));
}

pub async fn watch_from_now(h: &impl Harness) {
    let store = h.open().await;
    store.create(tenant("before")).await.unwrap();

    let mut all = store.watch(WatchQuery::default()).await.unwrap();
    assert_eq!(all.start_revision(), 1);
    let mut agents_in_a = store
        .watch(WatchQuery {
            kind: Some("Agent".into()),
            namespace: Some("a".into()),
            label_selector: Some(Selector::parse("app=web").unwrap()),
            ..WatchQuery::default()
        })
        .await
        .unwrap();

    let created = store
        .create(agent("a", "w", json!({"app": "web"}), json!({"v": 1})))
        .await
        .unwrap();
    store
        .create(agent("b", "w", json!({"app": "web"}), json!({})))
        .await
        .unwrap();
    store
        .create(agent("a", "db", json!({"app": "db"}), json!({})))
        .await
        .unwrap();
    let mut changed = created.clone();
    changed["spec"]["v"] = json!(2);
    let updated = store.update(changed).await.unwrap();
    let deleted = store.delete(&key_of(&created), None).await.unwrap();

    let e = next_event(&mut agents_in_a).await;
    assert_eq!((e.event_type, e.revision), (EventType::Added, 2));
    assert_eq!(e.object, created);
    let e = next_event(&mut agents_in_a).await;
    assert_eq!((e.event_type, e.revision), (EventType::Modified, 5));
    assert_eq!(e.object, updated);
    let e = next_event(&mut agents_in_a).await;
    assert_eq!((e.event_type, e.revision), (EventType::Deleted, 6));
    assert_eq!(e.object, deleted);
    expect_quiet(&mut agents_in_a, Duration::from_millis(200)).await;

    let mut revisions = Vec::new();
    for _ in 0..5 {
        revisions.push(next_event(&mut all).await.revision);
    }
    assert_eq!(revisions, [2, 3, 4, 5, 6]);
    expect_quiet(&mut all, Duration::from_millis(200)).await;

    // A dropped watch does not disturb writes.
    drop(all);
    store.create(tenant("after")).await.unwrap();
}

pub async fn watch_resume(h: &impl Harness) {
    let store = h.open().await;
    let a = store.create(tenant("a")).await.unwrap();
    let list = store.list(&ListQuery::all()).await.unwrap();
    let b = store.create(tenant("b")).await.unwrap();
    let mut a2 = a.clone();
    a2["spec"] = json!({"x": 1});
    store.update(a2).await.unwrap();

    // List-then-watch: the changes after the list, and nothing before.
    let mut watch = store
        .watch(WatchQuery {
            since_revision: Some(list.revision),
            ..WatchQuery::default()
        })
        .await
        .unwrap();
    let e = next_event(&mut watch).await;
    assert_eq!((e.event_type, e.object), (EventType::Added, b));
    let e = next_event(&mut watch).await;
    assert_eq!((e.event_type, e.revision), (EventType::Modified, 3));
    store.delete(&key_of(&a), None).await.unwrap();
    let e = next_event(&mut watch).await;
    assert_eq!((e.event_type, e.revision), (EventType::Deleted, 4));

    // From 0: everything.
    let mut from_start = store
        .watch(WatchQuery {
            since_revision: Some(0),
            kind: Some("Tenant".into()),
            ..WatchQuery::default()
        })
        .await
        .unwrap();
    let mut kinds = Vec::new();
    for _ in 0..4 {
        kinds.push(next_event(&mut from_start).await.event_type);
    }
    assert_eq!(
        kinds,
        [
            EventType::Added,
            EventType::Added,
            EventType::Modified,
            EventType::Deleted
        ]
    );
}

pub async fn compaction(h: &impl Harness) {
    let mut options = StoreOptions::new(h.key().clone());
    options.retained_revisions = 5;
    let store = h.open_with(options).await;
    for i in 0..20 {
        store.create(tenant(&format!("t{i}"))).await.unwrap();
    }
    // Revisions 16..=20 are kept: a watch may resume from 15 but not from 14.
    let from = |revision| WatchQuery {
        since_revision: Some(revision),
        ..WatchQuery::default()
    };
    match store.watch(from(14)).await {
        Err(StoreError::Expired {
            revision,
            compacted,
        }) => {
            assert_eq!((revision, compacted), (14, 15));
        }
        other => panic!("expected Expired, got {other:?}"),
    }
    let err = store.watch(from(1)).await.unwrap_err().to_string();
    assert!(err.contains("list again"), "{err}");
    let mut watch = store.watch(from(15)).await.unwrap();
    assert_eq!(next_event(&mut watch).await.revision, 16);

    // Explicit compaction, clamped to the current revision.
    store.compact(18).await.unwrap();
    assert!(matches!(
        store.watch(from(17)).await,
        Err(StoreError::Expired { compacted: 18, .. })
    ));
    store.watch(from(18)).await.unwrap();
    store.compact(1_000).await.unwrap();
    assert!(matches!(
        store.watch(from(19)).await,
        Err(StoreError::Expired { compacted: 20, .. })
    ));
    let mut now = store.watch(from(20)).await.unwrap();
    store.create(tenant("new")).await.unwrap();
    assert_eq!(next_event(&mut now).await.revision, 21);
}

pub async fn slow_watch_expires(h: &impl Harness) {
    // A consumer that does not read lets the watch fall behind compaction: the
    // watch buffers at most a channel and a read batch (512 events), so after 600
    // writes with 5 retained revisions it must end with Expired.
    let mut options = StoreOptions::new(h.key().clone());
    options.retained_revisions = 5;
    let store = h.open_with(options).await;
    let mut slow = store.watch(WatchQuery::default()).await.unwrap();
    for i in 0..600 {
        store.create(tenant(&format!("t{i}"))).await.unwrap();
    }
    let mut delivered = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), slow.next()).await {
            Ok(Some(Ok(event))) => {
                delivered += 1;
                assert_eq!(event.revision, delivered);
            }
            Ok(Some(Err(StoreError::Expired {
                revision,
                compacted,
            }))) => {
                assert_eq!(revision, delivered);
                assert!(compacted > revision);
                break;
            }
            other => panic!("expected events then Expired, got {other:?}"),
        }
    }
    assert!(slow.next().await.is_none(), "the watch ends after Expired");
}

pub async fn no_lost_updates(h: &impl Harness) {
    const TASKS: usize = 20;
    const INCREMENTS: usize = 5;
    let store = h.open().await;
    let created = store
        .create(config_map("ns", "counter", json!({"n": "0"})))
        .await
        .unwrap();
    let key = key_of(&created);
    let mut watch = store
        .watch(WatchQuery {
            since_revision: Some(rv(&created).parse().unwrap()),
            ..WatchQuery::default()
        })
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store: Arc<dyn Store> = Arc::clone(&store);
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for _ in 0..INCREMENTS {
                loop {
                    let mut object = store.get(&key).await.unwrap();
                    let n: usize = object["data"]["n"].as_str().unwrap().parse().unwrap();
                    object["data"]["n"] = json!((n + 1).to_string());
                    match store.update(object).await {
                        Ok(_) => break,
                        Err(StoreError::Conflict { .. }) => conflicts += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    let total = TASKS * INCREMENTS;
    let last = store.get(&key).await.unwrap();
    assert_eq!(last["data"]["n"], total.to_string());
    eprintln!("{total} increments, {conflicts} conflicts retried");

    // The watch saw every write, in order, without gaps.
    let first: i64 = rv(&created).parse().unwrap();
    for i in 0..total {
        let e = next_event(&mut watch).await;
        assert_eq!(e.revision, first + 1 + i as i64);
        assert_eq!(e.object["data"]["n"], (i + 1).to_string());
    }
}

pub async fn restart(h: &impl Harness) {
    let store = h.open().await;
    let a = store
        .create(agent("ns", "a", json!({"app": "web"}), json!({"x": 1})))
        .await
        .unwrap();
    let s = store
        .create(secret("ns", "s", json!({"token": "c2VjcmV0"}), json!({})))
        .await
        .unwrap();
    store.create(tenant("t")).await.unwrap();
    store.delete(&key_of(&json!({"apiVersion": "palisade.io/v1", "kind": "Tenant", "metadata": {"name": "t"}})), None)
        .await
        .unwrap();
    store
        .append_audit(record("alice", "create", Outcome::Allowed, 1))
        .await
        .unwrap();
    let revision = store.revision().await.unwrap();
    drop(store);

    let store = h.open().await;
    assert_eq!(store.revision().await.unwrap(), revision);
    assert_eq!(store.get(&key_of(&a)).await.unwrap(), a);
    assert_eq!(store.get(&key_of(&s)).await.unwrap(), s);
    assert_eq!(store.list(&ListQuery::all()).await.unwrap().items.len(), 2);
    let audit = store.query_audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0], record("alice", "create", Outcome::Allowed, 1));
    // The change log survived too.
    let mut watch = store
        .watch(WatchQuery {
            since_revision: Some(0),
            ..WatchQuery::default()
        })
        .await
        .unwrap();
    for expected in 1..=revision {
        assert_eq!(next_event(&mut watch).await.revision, expected);
    }
    // And revisions continue where they stopped.
    let next = store.create(tenant("u")).await.unwrap();
    assert_eq!(rv(&next), (revision + 1).to_string());
}

pub async fn secrets_encrypted(h: &impl Harness) {
    let store = h.open().await;
    let plain = "hunter2-correct-horse";
    let encoded = "aHVudGVyMi1jb3JyZWN0LWhvcnNl"; // base64 of `plain`
    let object = secret(
        "ns",
        "db",
        json!({"password": encoded}),
        json!({"user": plain}),
    );
    let key = key_of(&object);
    let mut watch = store.watch(WatchQuery::default()).await.unwrap();
    let created = store.create(object).await.unwrap();
    assert_eq!(created["stringData"]["user"], plain);

    let raw = h.raw_body(&key).await;
    assert!(!raw.contains(plain), "plain text in the database: {raw}");
    assert!(!raw.contains(encoded), "secret data in the database: {raw}");
    assert!(raw.contains("palisadeSealed"), "{raw}");
    assert!(raw.contains("\"vault\""), "metadata stays readable: {raw}");

    assert_eq!(store.get(&key).await.unwrap(), created);
    let listed = store
        .list(&ListQuery::kind("", "Secret").with_selector(Selector::parse("app=vault").unwrap()))
        .await
        .unwrap();
    assert_eq!(listed.items, std::slice::from_ref(&created));
    assert_eq!(next_event(&mut watch).await.object, created);

    // Updates are sealed again with a fresh nonce.
    let mut changed = created.clone();
    changed["data"]["password"] = json!("bmV3");
    let updated = store.update(changed).await.unwrap();
    assert_eq!(updated["metadata"]["generation"], 2);
    let raw2 = h.raw_body(&key).await;
    assert!(!raw2.contains("bmV3") && !raw2.contains(plain), "{raw2}");
    assert_ne!(raw, raw2);
    assert_eq!(next_event(&mut watch).await.object, updated);

    // Other kinds are stored as they are.
    let cm = store
        .create(config_map("ns", "visible", json!({"k": plain})))
        .await
        .unwrap();
    assert!(h.raw_body(&key_of(&cm)).await.contains(plain));

    // Clients cannot smuggle in the sealed field.
    let mut forged = secret("ns", "forged", json!({}), json!({}));
    forged["palisadeSealed"] = json!({});
    assert!(matches!(
        store.create(forged).await,
        Err(StoreError::InvalidObject(_))
    ));
}

pub async fn wrong_key(h: &impl Harness) {
    let store = h.open().await;
    let plain = "sup3r-s3cret";
    let object = secret("ns", "s", json!({}), json!({"pw": plain}));
    let key = key_of(&object);
    store.create(object).await.unwrap();
    drop(store);

    let other = palisade_store::EncryptionKey::generate().unwrap();
    let store = h.open_with(StoreOptions::new(other.clone())).await;
    let err = store.get(&key).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Encryption(_)), "{text}");
    assert!(
        text.contains(h.key().id()) && text.contains(other.id()),
        "{text}"
    );
    assert!(text.contains("Secret ns/s"), "{text}");
    assert!(!text.contains(plain), "{text}");
    assert!(matches!(
        store.list(&ListQuery::kind("", "Secret")).await,
        Err(StoreError::Encryption(_))
    ));
    // A Secret whose key is lost can still be deleted.
    let deleted = store.delete(&key, None).await.unwrap();
    assert!(deleted.get("stringData").is_none() && deleted.get("palisadeSealed").is_none());
}

pub async fn moved_ciphertext(h: &impl Harness) {
    let store = h.open().await;
    let a = secret("ns", "a", json!({}), json!({"pw": "for-a-only"}));
    let b = secret("ns", "b", json!({}), json!({"pw": "for-b"}));
    store.create(a.clone()).await.unwrap();
    store.create(b.clone()).await.unwrap();

    // Copy a's sealed data into b's row.
    let raw_a: Value = serde_json::from_str(&h.raw_body(&key_of(&a)).await).unwrap();
    let mut raw_b: Value = serde_json::from_str(&h.raw_body(&key_of(&b)).await).unwrap();
    raw_b["palisadeSealed"] = raw_a["palisadeSealed"].clone();
    h.set_raw_body(&key_of(&b), &raw_b.to_string()).await;

    let err = store.get(&key_of(&b)).await.unwrap_err().to_string();
    assert!(err.contains("failed authentication"), "{err}");
    assert!(!err.contains("for-a-only"), "{err}");
    assert!(store.get(&key_of(&a)).await.is_ok());
}

fn record(principal: &str, verb: &str, outcome: Outcome, second: i64) -> AuditRecord {
    AuditRecord {
        time: Timestamp::from_micros(1_700_000_000_000_000 + second * 1_000_000),
        principal: principal.into(),
        verb: verb.into(),
        resource: ObjectKey::new("palisade.io", "Agent", "ns", format!("agent-{second}")),
        outcome,
        reason: (outcome == Outcome::Denied).then(|| "rule deny-all".to_string()),
        source: if second % 2 == 0 { "gateway" } else { "api" }.into(),
        details: json!({"request": second}),
    }
}

pub async fn audit(h: &impl Harness) {
    let store = h.open().await;
    let records = [
        record("alice", "create", Outcome::Allowed, 1),
        record("bob", "delete", Outcome::Denied, 2),
        record("alice", "get", Outcome::Allowed, 3),
        record("carol", "call_tool", Outcome::Error, 4),
        record("alice", "delete", Outcome::Denied, 5),
    ];
    for r in records.iter().cloned() {
        store.append_audit(r).await.unwrap();
    }
    let query = |q: AuditQuery| {
        let store = Arc::clone(&store);
        async move {
            store
                .query_audit(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.details["request"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(query(AuditQuery::default()).await, [5, 4, 3, 2, 1]);
    let all = store.query_audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(all[0], records[4]);
    assert_eq!(
        query(AuditQuery {
            principal: Some("alice".into()),
            ..AuditQuery::default()
        })
        .await,
        [5, 3, 1]
    );
    assert_eq!(
        query(AuditQuery {
            outcome: Some(Outcome::Denied),
            ..AuditQuery::default()
        })
        .await,
        [5, 2]
    );
    assert_eq!(
        query(AuditQuery {
            kind: Some("Agent".into()),
            name: Some("agent-3".into()),
            ..AuditQuery::default()
        })
        .await,
        [3]
    );
    assert_eq!(
        query(AuditQuery {
            since: Some(records[1].time),
            until: Some(records[3].time),
            ..AuditQuery::default()
        })
        .await,
        [3, 2]
    );
    assert_eq!(
        query(AuditQuery {
            source: Some("gateway".into()),
            verb: Some("delete".into()),
            ..AuditQuery::default()
        })
        .await,
        [2]
    );
    assert_eq!(
        query(AuditQuery {
            limit: Some(2),
            ..AuditQuery::default()
        })
        .await,
        [5, 4]
    );
    assert_eq!(
        query(AuditQuery {
            principal: Some("nobody".into()),
            ..AuditQuery::default()
        })
        .await,
        Vec::<i64>::new()
    );
}

pub async fn invalid_objects(h: &impl Harness) {
    let store = h.open().await;
    for bad in [
        json!("text"),
        json!({"kind": "Agent", "metadata": {"name": "x"}}),
        json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": ["a"]}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "resourceVersion": 4}}),
    ] {
        match store.create(bad.clone()).await {
            Err(StoreError::InvalidObject(_)) => {}
            other => panic!("{bad}: expected InvalidObject, got {other:?}"),
        }
    }
    assert_eq!(store.revision().await.unwrap(), 0);
}

/// A record as a caller hands it to `put_agent_record`, with times the store must
/// ignore.
fn agent_record(
    kind: RecordKind,
    id: &str,
    (namespace, agent, owner): (&str, &str, &str),
    data: Value,
) -> AgentRecord {
    AgentRecord {
        kind,
        id: id.into(),
        namespace: namespace.into(),
        agent: agent.into(),
        owner: owner.into(),
        created: Timestamp::from_micros(5),
        updated: Timestamp::from_micros(7),
        data,
    }
}

pub async fn agent_records(h: &impl Harness) {
    use RecordKind::{Conversation, Task};
    const HELPER: (&str, &str, &str) = ("team-a", "helper", "alice");
    let store = h.open().await;
    store.create(tenant("t")).await.unwrap();
    let revision = store.revision().await.unwrap();
    let mut watch = store.watch(WatchQuery::default()).await.unwrap();

    // Insert: the store stamps both times, the same.
    let before = Timestamp::now();
    let data = json!({"messages": [{"role": "user", "text": "héllo ✓"}], "score": 1.5});
    let first = store
        .put_agent_record(agent_record(Conversation, "c1", HELPER, data.clone()))
        .await
        .unwrap();
    assert_eq!(first.created, first.updated);
    assert!(first.created >= before, "{:?} < {before:?}", first.created);
    assert_eq!(first.data, data);
    assert_eq!((first.id.as_str(), first.owner.as_str()), ("c1", "alice"));
    assert_eq!(
        store.get_agent_record(Conversation, "c1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.get_agent_record(Task, "c1").await.unwrap(), None);
    assert_eq!(
        store.get_agent_record(Conversation, "c2").await.unwrap(),
        None
    );

    // Update: `created` kept, `updated` later, data replaced.
    let data2 = json!({"messages": [1, 2, 3]});
    let second = store
        .put_agent_record(agent_record(Conversation, "c1", HELPER, data2.clone()))
        .await
        .unwrap();
    assert_eq!(second.created, first.created);
    assert!(second.updated > first.updated);
    assert_eq!(second.data, data2);
    assert_eq!(
        store.get_agent_record(Conversation, "c1").await.unwrap(),
        Some(second.clone())
    );

    // A record never changes hands; the stored one is left as it was.
    for (who, differs) in [
        (("team-a", "helper", "mallory"), "different owner"),
        (("team-a", "other", "alice"), "different agent"),
        (("team-b", "helper", "alice"), "different namespace"),
        (
            ("team-b", "other", "mallory"),
            "different namespace and agent and owner",
        ),
    ] {
        let err = store
            .put_agent_record(agent_record(
                Conversation,
                "c1",
                who,
                json!({"stolen": true}),
            ))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::InvalidObject(_)), "{text}");
        assert!(
            text.contains(differs) && text.contains("never changes hands"),
            "{text}"
        );
        assert!(!text.contains("alice"), "names the stored owner: {text}");
    }
    assert_eq!(
        store.get_agent_record(Conversation, "c1").await.unwrap(),
        Some(second.clone())
    );

    // The same id in the other kind is another record, which anyone may own.
    let task = store
        .put_agent_record(agent_record(
            Task,
            "c1",
            ("team-b", "x", "bob"),
            json!({"state": "working"}),
        ))
        .await
        .unwrap();
    assert_eq!(
        store.get_agent_record(Task, "c1").await.unwrap(),
        Some(task)
    );

    // Too large: refused, nothing stored or changed.
    let huge = json!({"blob": "x".repeat(MAX_RECORD_BYTES)});
    for id in ["c1", "big"] {
        let err = store
            .put_agent_record(agent_record(Conversation, id, HELPER, huge.clone()))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidObject(_)), "{err}");
        assert!(err.to_string().contains("4 MiB"), "{err}");
    }
    assert_eq!(
        store.get_agent_record(Conversation, "big").await.unwrap(),
        None
    );
    assert_eq!(
        store.get_agent_record(Conversation, "c1").await.unwrap(),
        Some(second)
    );
    // Just under the limit is fine.
    let fits = json!("y".repeat(MAX_RECORD_BYTES - 2));
    let stored = store
        .put_agent_record(agent_record(Conversation, "fits", HELPER, fits.clone()))
        .await
        .unwrap();
    assert_eq!(stored.data, fits);
    assert_eq!(
        store
            .get_agent_record(Conversation, "fits")
            .await
            .unwrap()
            .map(|r| r.data),
        Some(fits)
    );
    let err = store
        .put_agent_record(agent_record(Task, "", HELPER, json!({})))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidObject(_)), "{err}");

    // None of it was a resource write: no revision, no event, no object.
    assert_eq!(store.revision().await.unwrap(), revision);
    expect_quiet(&mut watch, Duration::from_millis(200)).await;
    assert_eq!(store.list(&ListQuery::all()).await.unwrap().items.len(), 1);
}

pub async fn agent_record_lists(h: &impl Harness) {
    use RecordKind::{Conversation, Task};
    let store = h.open().await;
    let puts = [
        (Conversation, "a1", ("a", "helper", "alice")),
        (Conversation, "a2", ("a", "helper", "bob")),
        (Conversation, "a3", ("a", "other", "alice")),
        (Conversation, "b1", ("b", "helper", "alice")),
        (Task, "t1", ("a", "helper", "alice")),
        // Touched again: now the most recently updated conversation.
        (Conversation, "a1", ("a", "helper", "alice")),
    ];
    for (i, (kind, id, who)) in puts.into_iter().enumerate() {
        store
            .put_agent_record(agent_record(kind, id, who, json!({"turn": i})))
            .await
            .unwrap();
        // Distinct `updated` times whatever the clock's resolution.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let list = |q: AgentRecordQuery| {
        let store = Arc::clone(&store);
        async move {
            store
                .list_agent_records(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    let conversations = || AgentRecordQuery::kind(Conversation);
    assert_eq!(list(conversations()).await, ["a1", "b1", "a3", "a2"]);
    assert_eq!(
        list(conversations().for_agent("a", "helper")).await,
        ["a1", "a2"]
    );
    assert_eq!(
        list(conversations().owned_by("alice")).await,
        ["a1", "b1", "a3"]
    );
    assert_eq!(
        list(conversations().for_agent("a", "helper").owned_by("bob")).await,
        ["a2"]
    );
    let in_b = AgentRecordQuery {
        namespace: Some("b".into()),
        ..conversations()
    };
    assert_eq!(list(in_b).await, ["b1"]);
    let helpers = AgentRecordQuery {
        agent: Some("helper".into()),
        ..conversations()
    };
    assert_eq!(list(helpers).await, ["a1", "b1", "a2"]);
    assert_eq!(list(conversations().with_limit(2)).await, ["a1", "b1"]);
    assert_eq!(list(AgentRecordQuery::kind(Task)).await, ["t1"]);
    assert_eq!(
        list(conversations().owned_by("nobody")).await,
        Vec::<String>::new()
    );
    // Whole records come back, as stored.
    let newest = &store.list_agent_records(&conversations()).await.unwrap()[0];
    assert_eq!(newest.data, json!({"turn": 5}));
    assert!(newest.updated > newest.created);
    assert_eq!(
        Some(newest.clone()),
        store.get_agent_record(Conversation, "a1").await.unwrap()
    );
    assert_eq!(store.revision().await.unwrap(), 0);
}

pub async fn agent_records_restart(h: &impl Harness) {
    let store = h.open().await;
    let who = ("ns", "helper", "alice");
    let stored = store
        .put_agent_record(agent_record(
            RecordKind::Task,
            "t1",
            who,
            json!({"state": "working"}),
        ))
        .await
        .unwrap();
    drop(store);

    let store = h.open().await;
    let id = "t1";
    assert_eq!(
        store.get_agent_record(RecordKind::Task, id).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(
        store
            .list_agent_records(&AgentRecordQuery::kind(RecordKind::Task))
            .await
            .unwrap(),
        std::slice::from_ref(&stored)
    );
    // It continues where it stopped, still refusing other owners.
    let next = store
        .put_agent_record(agent_record(
            RecordKind::Task,
            id,
            who,
            json!({"state": "completed"}),
        ))
        .await
        .unwrap();
    assert_eq!(next.created, stored.created);
    assert!(next.updated > stored.updated);
    assert!(
        store
            .put_agent_record(agent_record(
                RecordKind::Task,
                id,
                ("ns", "helper", "bob"),
                json!({})
            ))
            .await
            .is_err()
    );
    assert_eq!(store.revision().await.unwrap(), 0);
}
