//! Federation naming: how the tools, prompts and resources of several targets are
//! told apart in one virtual server, and how list pages of several targets are
//! strung together behind one opaque cursor.
//!
//! With prefixing on, a tool or prompt `search` of target `github` is offered as
//! `github_search`, and a resource `repo://x` as `github+repo://x` (a target name is
//! a DNS label, so the result is still a URI with a valid scheme).

use serde_json::Value;
#[cfg(test)]
use serde_json::json;

/// Whether names carry their target's prefix (`prefixMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrefixMode {
    /// Prefix only when there is more than one target (the default).
    #[default]
    Conditional,
    /// Always prefix.
    Always,
    /// Never prefix; names must not collide across targets.
    Never,
}

impl PrefixMode {
    /// Whether a server of `targets` targets prefixes.
    pub fn applies(self, targets: usize) -> bool {
        match self {
            PrefixMode::Conditional => targets > 1,
            PrefixMode::Always => true,
            PrefixMode::Never => false,
        }
    }
}

/// The kinds of list a server offers: method, result member, name member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `tools/list` → `tools[].name`.
    Tools,
    /// `prompts/list` → `prompts[].name`.
    Prompts,
    /// `resources/list` → `resources[].uri`.
    Resources,
    /// `resources/templates/list` → `resourceTemplates[].uriTemplate`.
    ResourceTemplates,
}

impl ListKind {
    /// The list kind of a method, if it is a list method.
    pub fn of_method(method: &str) -> Option<ListKind> {
        Some(match method {
            "tools/list" => ListKind::Tools,
            "prompts/list" => ListKind::Prompts,
            "resources/list" => ListKind::Resources,
            "resources/templates/list" => ListKind::ResourceTemplates,
            _ => return None,
        })
    }

    /// The result member holding the items.
    pub fn member(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Prompts => "prompts",
            ListKind::Resources => "resources",
            ListKind::ResourceTemplates => "resourceTemplates",
        }
    }

    /// The capability a server needs to answer this list.
    pub fn capability(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Prompts => "prompts",
            ListKind::Resources | ListKind::ResourceTemplates => "resources",
        }
    }
}

/// A tool or prompt name as offered to clients.
pub fn qualify_name(target: &str, name: &str) -> String {
    format!("{target}_{name}")
}

/// A resource URI (or URI template) as offered to clients.
pub fn qualify_uri(target: &str, uri: &str) -> String {
    format!("{target}+{uri}")
}

/// Splits an offered name into (target index, upstream name).
pub fn split_name<'a>(targets: &[String], name: &'a str) -> Option<(usize, &'a str)> {
    split(targets, name, '_')
}

/// Splits an offered URI into (target index, upstream URI).
pub fn split_uri<'a>(targets: &[String], uri: &'a str) -> Option<(usize, &'a str)> {
    split(targets, uri, '+')
}

fn split<'a>(targets: &[String], value: &'a str, sep: char) -> Option<(usize, &'a str)> {
    // The longest matching target name wins (`a` and `a_b` can both exist).
    targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let rest = value.strip_prefix(t.as_str())?.strip_prefix(sep)?;
            Some((i, t.len(), rest))
        })
        .max_by_key(|(_, len, _)| *len)
        .map(|(i, _, rest)| (i, rest))
}

/// Renames the items of one target's list result in place.
pub fn qualify_items(kind: ListKind, target: &str, result: &mut Value) {
    let Some(items) = result.get_mut(kind.member()).and_then(Value::as_array_mut) else {
        return;
    };
    let field = match kind {
        ListKind::Tools | ListKind::Prompts => "name",
        ListKind::Resources => "uri",
        ListKind::ResourceTemplates => "uriTemplate",
    };
    for item in items {
        if let Some(Value::String(s)) = item.get_mut(field) {
            *s = match kind {
                ListKind::Tools | ListKind::Prompts => qualify_name(target, s),
                _ => qualify_uri(target, s),
            };
        }
    }
}

/// Where a federated listing continues: the targets that have more pages, each with
/// its own cursor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cursor(pub Vec<(usize, String)>);

impl Cursor {
    /// Encodes the cursor as an opaque string (hex of a small JSON document).
    pub fn encode(&self) -> String {
        let doc = serde_json::to_string(&self.0).unwrap_or_default();
        doc.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// Decodes a cursor made by [`Cursor::encode`].
    pub fn decode(text: &str) -> Option<Cursor> {
        if !text.len().is_multiple_of(2) || text.len() > 16384 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect();
        serde_json::from_slice(&bytes?).ok().map(Cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_modes() {
        assert!(!PrefixMode::Conditional.applies(1));
        assert!(PrefixMode::Conditional.applies(2));
        assert!(PrefixMode::Always.applies(1));
        assert!(!PrefixMode::Never.applies(3));
    }

    #[test]
    fn names_and_uris_round_trip() {
        let targets = vec!["a".to_string(), "a_b".to_string(), "github".to_string()];
        assert_eq!(split_name(&targets, "a_b_search"), Some((1, "search")));
        assert_eq!(split_name(&targets, "a_search"), Some((0, "search")));
        assert_eq!(split_name(&targets, "github_get_me"), Some((2, "get_me")));
        assert_eq!(split_name(&targets, "other_x"), None);
        let uri = qualify_uri("github", "repo://o/r");
        assert_eq!(split_uri(&targets, &uri), Some((2, "repo://o/r")));
    }

    #[test]
    fn qualifies_list_items() {
        let mut r = json!({"tools": [{"name": "echo"}], "nextCursor": "x"});
        qualify_items(ListKind::Tools, "ev", &mut r);
        assert_eq!(r["tools"][0]["name"], "ev_echo");
        let mut r = json!({"resourceTemplates": [{"uriTemplate": "test://{id}"}]});
        qualify_items(ListKind::ResourceTemplates, "ev", &mut r);
        assert_eq!(r["resourceTemplates"][0]["uriTemplate"], "ev+test://{id}");
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor(vec![(2, "p2".into()), (0, "x".into())]);
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("zz"), None);
        assert_eq!(Cursor::decode("abc"), None);
    }
}
