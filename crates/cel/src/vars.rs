//! The variables an evaluation reads: [`Vars`], and [`CelValue`] for data
//! converted to CEL's runtime form once and bound many times.

use crate::convert;
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString,
};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// A value in CEL's runtime form, owning its data.
///
/// Convert data that many evaluations read once, e.g. a verified token's
/// claims when the token enters the cache, or a role-mapping table when the
/// configuration loads, and bind it by reference with [`Vars::bind`]: no
/// per-evaluation conversion or copy.
pub struct CelValue(Box<dyn Val + 'static>);

impl CelValue {
    /// Converts a JSON document (see the crate docs for how numbers map).
    pub fn from_json(json: &serde_json::Value) -> Self {
        CelValue(convert::owned(json))
    }

    /// A `null`.
    pub fn null() -> Self {
        CelValue(Box::new(CelNull))
    }

    /// A list of the given values, in order.
    pub fn list(items: impl IntoIterator<Item = CelValue>) -> Self {
        let items: Vec<Box<dyn Val>> = items.into_iter().map(|v| v.0).collect();
        CelValue(Box::new(CelList::from(items)))
    }

    /// A map with string keys; a later duplicate key replaces an earlier one.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, CelValue)>) -> Self {
        let map: HashMap<CelMapKey<'static>, Box<dyn Val>> = entries
            .into_iter()
            .map(|(k, v)| (CelMapKey::String(CelString::from(k.into())), v.0))
            .collect();
        CelValue(Box::new(CelMap::from(map)))
    }

    /// The value as cel's [`cel::Value`] enum, e.g. to inspect it in a test.
    pub fn to_value(&self) -> Result<cel::Value, cel::ExecutionError> {
        cel::Value::try_from(self.0.as_ref())
    }

    /// The runtime value, for code that works with cel's `Val` directly.
    pub fn as_val(&self) -> &(dyn Val + 'static) {
        self.0.as_ref()
    }
}

impl Clone for CelValue {
    fn clone(&self) -> Self {
        CelValue(self.0.clone_as_boxed())
    }
}

impl fmt::Debug for CelValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<&serde_json::Value> for CelValue {
    fn from(json: &serde_json::Value) -> Self {
        CelValue::from_json(json)
    }
}

impl From<&str> for CelValue {
    fn from(s: &str) -> Self {
        CelValue(Box::new(CelString::from(s.to_owned())))
    }
}

impl From<String> for CelValue {
    fn from(s: String) -> Self {
        CelValue(Box::new(CelString::from(s)))
    }
}

impl From<bool> for CelValue {
    fn from(b: bool) -> Self {
        CelValue(Box::new(CelBool::from(b)))
    }
}

impl From<i64> for CelValue {
    fn from(i: i64) -> Self {
        CelValue(Box::new(CelInt::from(i)))
    }
}

impl From<f64> for CelValue {
    fn from(d: f64) -> Self {
        CelValue(Box::new(CelDouble::from(d)))
    }
}

/// A variable's value: converted for this set, or borrowed.
enum Slot<'a> {
    Owned(Box<dyn Val + 'a>),
    Borrowed(&'a (dyn Val + 'a)),
}

/// The variables of one evaluation, by name.
///
/// Binding is cheap: [`bind`](Vars::bind) borrows an already converted
/// [`CelValue`]; [`bind_json`](Vars::bind_json) converts a JSON document
/// whose strings stay borrowed. Lookups scan a short vector, as an
/// expression reads a handful of variables. A name bound twice resolves to
/// the latest binding. Names are plain identifiers: a dotted name
/// (`request.auth`) is not looked up as a qualified name, bind a map
/// `request` holding `auth` instead.
///
/// ```
/// use palisade_cel::{CelValue, Program, Vars};
/// use serde_json::json;
///
/// let claims = CelValue::from_json(&json!({"sub": "alice", "scope": "files:read"}));
/// let request = json!({"tool": {"name": "list_files"}});
/// let program = Program::compile(
///     r#"mcp.tool.name == "list_files" && jwt.scope.contains("files:read")"#,
/// )
/// .unwrap();
/// let mut vars = Vars::new();
/// vars.bind("jwt", &claims).bind_json("mcp", &request);
/// assert_eq!(program.eval_bool(&vars), Ok(true));
/// ```
#[derive(Default)]
pub struct Vars<'a> {
    slots: Vec<(Cow<'a, str>, Slot<'a>)>,
}

impl<'a> Vars<'a> {
    /// No variables.
    pub fn new() -> Self {
        Vars { slots: Vec::new() }
    }

    /// Binds `name` to an already converted value, by reference.
    pub fn bind(&mut self, name: impl Into<Cow<'a, str>>, value: &'a CelValue) -> &mut Self {
        self.slots
            .push((name.into(), Slot::Borrowed(value.0.as_ref())));
        self
    }

    /// Binds `name` to `value`, moved in.
    pub fn bind_owned(&mut self, name: impl Into<Cow<'a, str>>, value: CelValue) -> &mut Self {
        self.slots.push((name.into(), Slot::Owned(value.0)));
        self
    }

    /// Binds `name` to a JSON document, converted now; its strings are
    /// borrowed, not copied.
    pub fn bind_json(
        &mut self,
        name: impl Into<Cow<'a, str>>,
        json: &'a serde_json::Value,
    ) -> &mut Self {
        self.slots
            .push((name.into(), Slot::Owned(convert::borrowed(json))));
        self
    }

    /// Whether `name` is bound.
    pub fn contains(&self, name: &str) -> bool {
        self.slot(name).is_some()
    }

    /// The bound names, in binding order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().map(|(name, _)| name.as_ref())
    }

    fn slot(&self, name: &str) -> Option<&Slot<'a>> {
        self.slots
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, slot)| slot)
    }
}

impl fmt::Debug for Vars<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, slot) in &self.slots {
            match slot {
                Slot::Owned(v) => map.entry(name, v),
                Slot::Borrowed(v) => map.entry(name, v),
            };
        }
        map.finish()
    }
}

impl VariableResolver for Vars<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        self.slot(variable).map(|slot| match slot {
            Slot::Owned(v) => CowVal::Borrowed(v.as_ref()),
            Slot::Borrowed(v) => CowVal::Borrowed(*v),
        })
    }
}
