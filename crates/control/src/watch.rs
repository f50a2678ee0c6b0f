//! Watches configuration files for changes, including editors' atomic saves (write to a
//! temporary file, rename over the original) and deletions followed by re-creation.
//!
//! The parent directory of every watched file is watched (so renames onto the file are
//! seen), and directories given as sources are watched recursively. Bursts of events
//! are coalesced: a change is reported once no event arrived for a short quiet period.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Quiet period after the last file event before a reload.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// A running watch; dropping it stops watching.
pub struct FileWatch {
    _watcher: notify::RecommendedWatcher,
    events: mpsc::UnboundedReceiver<()>,
}

impl FileWatch {
    /// Starts watching `paths` (files or directories).
    pub fn start(paths: &[PathBuf]) -> notify::Result<FileWatch> {
        let (tx, events) = mpsc::unbounded_channel();
        let interesting: BTreeSet<PathBuf> = paths.iter().map(|p| absolute(p)).collect();
        let dirs: Vec<PathBuf> = interesting.iter().filter(|p| p.is_dir()).cloned().collect();
        let filter_set = interesting.clone();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                let Ok(event) = res else { return };
                if matches!(event.kind, EventKind::Access(_)) {
                    return;
                }
                let relevant = event.paths.iter().any(|p| {
                    filter_set.contains(p)
                        || dirs.iter().any(|d| p.starts_with(d) && is_manifest(p))
                });
                if relevant {
                    let _ = tx.send(());
                }
            })?;
        let mut watched = BTreeSet::new();
        for path in &interesting {
            let (target, mode) = if path.is_dir() {
                (path.clone(), RecursiveMode::Recursive)
            } else {
                (
                    path.parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| PathBuf::from(".")),
                    RecursiveMode::NonRecursive,
                )
            };
            if watched.insert(target.clone()) {
                watcher.watch(&target, mode)?;
            }
        }
        Ok(FileWatch {
            _watcher: watcher,
            events,
        })
    }

    /// Waits for the next change (after the quiet period). `None` when the watcher died.
    pub async fn changed(&mut self) -> Option<()> {
        self.events.recv().await?;
        loop {
            match tokio::time::timeout(DEBOUNCE, self.events.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return None,
                Err(_) => return Some(()),
            }
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn is_manifest(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}
