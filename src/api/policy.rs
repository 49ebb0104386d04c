//! Policy defaults at the spec's baseline (spec §9, `nova/policies/*.py`).

use super::ApiError;
use crate::scenario::{Caller, Role};

/// Who a rule admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `role:admin`.
    Admin,
    /// `PROJECT_MANAGER_OR_ADMIN`.
    ProjectManagerOrAdmin,
    /// `PROJECT_MEMBER_OR_ADMIN`.
    ProjectMemberOrAdmin,
}

/// A named policy and its default rule.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub name: &'static str,
    pub rule: Rule,
}

pub const MIGRATE: Policy = Policy {
    name: "os_compute_api:os-migrate-server:migrate",
    rule: Rule::ProjectManagerOrAdmin,
};
pub const MIGRATE_HOST: Policy = Policy {
    name: "os_compute_api:os-migrate-server:migrate:host",
    rule: Rule::Admin,
};
pub const CONFIRM_RESIZE: Policy = Policy {
    name: "os_compute_api:servers:confirm_resize",
    rule: Rule::ProjectMemberOrAdmin,
};
pub const REVERT_RESIZE: Policy = Policy {
    name: "os_compute_api:servers:revert_resize",
    rule: Rule::ProjectMemberOrAdmin,
};
pub const CREATE: Policy = Policy {
    name: "os_compute_api:servers:create",
    rule: Rule::ProjectMemberOrAdmin,
};
pub const DELETE: Policy = Policy {
    name: "os_compute_api:servers:delete",
    rule: Rule::ProjectMemberOrAdmin,
};

/// Checks `policy` for `caller` against a target owned by `owner` (the project matches when
/// the caller gives no project: it acts within the server's own project).
pub fn authorize(policy: Policy, caller: &Caller, owner: &str) -> Result<(), ApiError> {
    let same_project = caller.project.as_deref().is_none_or(|p| p == owner);
    let allowed = match (caller.role, policy.rule) {
        (Role::Admin, _) => true,
        (Role::Manager, Rule::ProjectManagerOrAdmin) => same_project,
        // A manager is not implicitly a member in the defaults; Keystone's implied roles
        // (manager ⇒ member) make it one.
        (Role::Manager, Rule::ProjectMemberOrAdmin) => same_project,
        (Role::Member, Rule::ProjectMemberOrAdmin) => same_project,
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            format!("Policy doesn't allow {} to be performed.", policy.name),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Microversion;

    fn caller(role: Role, project: Option<&str>) -> Caller {
        Caller {
            microversion: Microversion::MAX,
            role,
            project: project.map(str::to_string),
        }
    }

    /// Spec §9 defaults table: who may do what.
    #[test]
    fn defaults_spec_9() {
        use Role::*;
        let rows: &[(Policy, Role, bool)] = &[
            (MIGRATE, Admin, true),
            (MIGRATE, Manager, true),
            (MIGRATE, Member, false),
            (MIGRATE, Reader, false),
            (MIGRATE_HOST, Admin, true),
            (MIGRATE_HOST, Manager, false),
            (CONFIRM_RESIZE, Member, true),
            (CONFIRM_RESIZE, Reader, false),
            (REVERT_RESIZE, Member, true),
            (REVERT_RESIZE, Admin, true),
        ];
        for (p, role, ok) in rows {
            assert_eq!(
                authorize(*p, &caller(*role, None), "demo").is_ok(),
                *ok,
                "{} {:?}",
                p.name,
                role
            );
        }
        let err = authorize(MIGRATE, &caller(Member, None), "demo").unwrap_err();
        assert_eq!(err.code, 403);
        assert_eq!(
            err.message,
            "Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed."
        );
        // A manager of another project does not match the project-scoped rule.
        assert!(authorize(MIGRATE, &caller(Manager, Some("other")), "demo").is_err());
    }
}
