//! Request/response transformation with CEL: headers, body and `metadata` values.

use std::collections::BTreeMap;

use super::shared::{
    CelExpression, at_least_one, check_cel, check_cel_map, check_opt_cel, conditional_policy,
    opt_len,
};
use crate::check::{Check, Checker};
use serde::{Deserialize, Serialize};

/// A header set or added with a CEL-computed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderTransformation {
    /// Header name, or one of the pseudo-headers `:authority`, `:method`, `:path`,
    /// `:scheme`, `:status`.
    pub name: String,
    /// CEL expression computing the value.
    pub value: CelExpression,
}

/// The pseudo-headers a transformation may write.
pub const PSEUDO_HEADERS: &[&str] = &[":authority", ":method", ":path", ":scheme", ":status"];

fn check_transform_header(cx: &mut Checker, name: &str) {
    let ok = if name.starts_with(':') {
        PSEUDO_HEADERS.contains(&name)
    } else {
        crate::kinds::gateway_api::valid_header_name(name)
    };
    if !ok {
        cx.error_at(
            "name",
            format!("invalid header name {name:?}"),
            "use a header token, or one of :authority, :method, :path, :scheme, :status",
        );
    }
}

/// Edits to one direction (request or response); at least one member is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transform {
    /// Headers to set (replace), 1 to 16.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<HeaderTransformation>,
    /// Headers to append, 1 to 16.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<HeaderTransformation>,
    /// Header names to remove, 1 to 16.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// CEL expression computing the new body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<CelExpression>,
    /// Named CEL values stored in the `metadata` variable (evaluated first), 1 to 16.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, CelExpression>,
}

impl Check for Transform {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("set", !self.set.is_empty()),
                ("add", !self.add.is_empty()),
                ("remove", !self.remove.is_empty()),
                ("body", self.body.is_some()),
                ("metadata", !self.metadata.is_empty()),
            ],
        );
        for (field, list) in [("set", &self.set), ("add", &self.add)] {
            opt_len(cx, field, list.len(), 1, 16);
            super::shared::unique(
                cx,
                field,
                "header name",
                list.iter().map(|h| h.name.as_str()),
            );
            for (i, h) in list.iter().enumerate() {
                cx.at_index(field, i, |cx| {
                    check_transform_header(cx, &h.name);
                    check_cel(cx, "value", &h.value);
                });
            }
        }
        opt_len(cx, "remove", self.remove.len(), 1, 16);
        check_opt_cel(cx, "body", &self.body);
        check_cel_map(cx, "metadata", &self.metadata, 16);
    }
}

conditional_policy! {
    /// Request and/or response transformation; at least one is set.
    Transformation / TransformationOrConditional {
        /// Edits to the request.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<Transform>,
        /// Edits to the response.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<Transform>,
    }
}

impl Check for Transformation {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("request", self.request.is_some()),
                ("response", self.response.is_some()),
            ],
        );
        cx.field("request", &self.request);
        cx.field("response", &self.response);
    }
}
