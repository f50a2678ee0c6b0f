//! The one CEL environment every program is compiled against and evaluated
//! in: the standard library, cel's strings/lists/math extensions and
//! Palisade's own ([`crate::ext`]), built once per process.
//!
//! Building it costs tens of microseconds (the function table is a few
//! hundred overloads); evaluating a program only borrows it. Each evaluation
//! runs in a child scope of a shared root context, which allocates nothing.

use cel::{Context, Env};
use std::sync::{Arc, OnceLock};

/// The shared environment and the root context built on it.
struct Shared {
    env: Arc<Env>,
    root: Context<'static, 'static>,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let mut env = Env::stdlib();
        build(&mut env).expect("the Palisade CEL extensions declare no conflicting names");
        let env = Arc::new(env);
        let root = Context::with_env(Arc::clone(&env));
        Shared { env, root }
    })
}

/// Adds the extension libraries to the standard environment.
fn build(env: &mut Env) -> Result<(), cel::DeclarationError> {
    env.add_extension(cel::extensions::strings)?;
    env.add_extension(cel::extensions::lists)?;
    env.add_extension(cel::extensions::math)?;
    env.add_extension(crate::ext::extension)?;
    Ok(())
}

/// The shared environment: what [`crate::Program::compile`] parses with.
pub(crate) fn env() -> &'static Env {
    &shared().env
}

/// The root context whose child scopes evaluations run in. It holds no
/// variables: they come from a [`crate::Vars`] bound to the child scope.
pub(crate) fn root() -> &'static Context<'static, 'static> {
    &shared().root
}

/// Builds the shared environment now rather than on the first compile, so
/// that a server pays for it at start-up and not on a request. Calling it
/// again does nothing.
pub fn init() {
    shared();
}

/// The function namespaces the environment declares (`optional.of`,
/// `lists.range`, `math.greatest`, `strings.quote`): a call such as
/// `math.greatest(x, y)` reads no variable named `math`.
pub(crate) const FUNCTION_NAMESPACES: &[&str] = &["optional", "lists", "math", "strings"];
