//! Who acts, for the audit entry every use case writes in its own transaction: a staff
//! member, an integration's API token, the command line, or one of Torg's own workers.

use torg_domain::audit::NewAuditEntry;
use torg_store::User;

/// The one who takes an action, and from where (a client address, or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `user:ID`, `api:TOKEN-NAME`, `cli` or `system:WORKER`.
    pub id: String,
    pub source: String,
}

impl Actor {
    pub fn user(user: &User, source: impl Into<String>) -> Actor {
        Actor {
            id: format!("user:{}", user.id),
            source: source.into(),
        }
    }
    pub fn api(token_name: &str, source: impl Into<String>) -> Actor {
        Actor {
            id: format!("api:{token_name}"),
            source: source.into(),
        }
    }
    /// A citizen (on the portal, the follow page, the chat), known by address only.
    pub fn citizen(source: impl Into<String>) -> Actor {
        Actor {
            id: "citizen".into(),
            source: source.into(),
        }
    }
    pub fn cli() -> Actor {
        Actor {
            id: "cli".into(),
            source: "cli".into(),
        }
    }
    pub fn system(worker: &str) -> Actor {
        Actor {
            id: format!("system:{worker}"),
            source: String::new(),
        }
    }

    /// The audit entry of this actor doing `action` to `object`.
    pub fn entry(&self, action: &str, object: String, detail: String) -> NewAuditEntry {
        NewAuditEntry {
            actor: self.id.clone(),
            action: action.to_string(),
            object,
            detail,
            source: self.source.clone(),
        }
    }
}
