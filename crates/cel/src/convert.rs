//! JSON to CEL runtime values, without going through serde or cel's
//! `Value` enum.
//!
//! Numbers become `int` when they fit an `i64`, `uint` when they only fit a
//! `u64`, `double` otherwise: `jwt.exp > 1700000000` compares integers, as a
//! policy author expects. The borrowed conversion keeps strings (and object
//! keys) as slices of the JSON document, so only the list and map
//! containers are allocated.

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use serde_json::Value as Json;
use std::collections::HashMap;

/// How strings are carried into the CEL value: borrowed from the document
/// (`'v` is the document's lifetime) or copied (`'v` is `'static`).
trait Strings<'j, 'v> {
    fn string(s: &'j str) -> CelString<'v>;
}

/// Borrows strings from the document.
struct Borrow;

impl<'j> Strings<'j, 'j> for Borrow {
    fn string(s: &'j str) -> CelString<'j> {
        CelString::from(s)
    }
}

/// Copies strings out of the document.
struct Owned;

impl<'j> Strings<'j, 'static> for Owned {
    fn string(s: &'j str) -> CelString<'static> {
        CelString::from(s.to_owned())
    }
}

fn convert<'j, 'v, S: Strings<'j, 'v>>(json: &'j Json) -> Box<dyn Val + 'v> {
    match json {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Box::new(CelInt::from(i))
            } else if let Some(u) = n.as_u64() {
                Box::new(CelUInt::from(u))
            } else {
                Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        Json::String(s) => Box::new(S::string(s)),
        Json::Array(items) => Box::new(CelList::from(
            items.iter().map(convert::<S>).collect::<Vec<_>>(),
        )),
        Json::Object(fields) => {
            let map: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> = fields
                .iter()
                .map(|(k, v)| (CelMapKey::String(S::string(k)), convert::<S>(v)))
                .collect();
            Box::new(CelMap::from(map))
        }
    }
}

/// `json` as a CEL value whose strings borrow from `json`.
pub(crate) fn borrowed(json: &Json) -> Box<dyn Val + '_> {
    convert::<Borrow>(json)
}

/// `json` as a CEL value that owns all its data.
pub(crate) fn owned(json: &Json) -> Box<dyn Val + 'static> {
    convert::<Owned>(json)
}
