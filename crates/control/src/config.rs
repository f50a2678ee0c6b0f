//! From manifest sources to a compiled Plan, through one path used by `validate`, the
//! first load and every hot reload.

use std::path::PathBuf;

use palisade_api::diag::Diagnostic;
use palisade_api::load::{self, Batch};
use palisade_api::snapshot::Snapshot;
use palisade_gateway::compile::{self, Options};
use palisade_gateway::plan::Plan;
use palisade_gateway::programs::Programs;

/// Where manifests come from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Files and directories.
    pub paths: Vec<PathBuf>,
    /// Manifest text read from standard input (read once, at start).
    pub stdin: Option<String>,
}

impl Sources {
    /// Loads every source.
    pub fn load(&self) -> Batch {
        let mut batch = load::load_paths(&self.paths);
        if let Some(text) = &self.stdin {
            batch.extend(load::load_str("<stdin>", text));
        }
        batch
    }
}

/// The outcome of compiling a configuration.
#[derive(Debug)]
pub struct Compiled {
    /// The Plan, when the configuration has no error.
    pub plan: Option<Plan>,
    /// Every diagnostic, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// The resources the Plan was compiled from.
    pub snapshot: Snapshot,
}

/// Runs the whole pipeline on a loaded batch: snapshot checks, program compilation,
/// Plan compilation.
pub fn compile_batch(batch: Batch, options: &Options, generation: u64) -> Compiled {
    let mut diagnostics = batch.diagnostics;
    let (snapshot, snapshot_diags) = Snapshot::build(batch.resources);
    diagnostics.extend(snapshot_diags);
    let (_programs, program_diags) = Programs::compile(&snapshot);
    diagnostics.extend(program_diags);
    let (plan, plan_diags) = compile::compile(&snapshot, options, generation);
    diagnostics.extend(plan_diags);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    diagnostics
        .sort_by(|a, b| (&a.origin.file, a.origin.line).cmp(&(&b.origin.file, b.origin.line)));
    Compiled {
        plan: if has_errors { None } else { plan },
        diagnostics,
        snapshot,
    }
}
