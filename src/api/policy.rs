//! Policy defaults at the spec's baseline (spec §9, `nova/policies/*.py`).

use super::ApiError;
use crate::config::{Behaviour, Release};
use crate::config::{Caller, Role};

/// Who a rule admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `role:admin`.
    Admin,
    /// `PROJECT_MANAGER_OR_ADMIN`.
    ProjectManagerOrAdmin,
    /// `PROJECT_MEMBER_OR_ADMIN`.
    ProjectMemberOrAdmin,
    /// `rule:admin_or_owner` of the pre-scope era: any user of the project.
    ProjectOwnerOrAdmin,
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
pub const MIGRATE_LIVE: Policy = Policy {
    name: "os_compute_api:os-migrate-server:migrate_live",
    rule: Rule::ProjectManagerOrAdmin,
};
pub const MIGRATE_LIVE_HOST: Policy = Policy {
    name: "os_compute_api:os-migrate-server:migrate_live:host",
    rule: Rule::Admin,
};
pub const RESET_STATE: Policy = Policy {
    name: "os_compute_api:os-admin-actions:reset_state",
    rule: Rule::Admin,
};
pub const INJECT_NETWORK_INFO: Policy = Policy {
    name: "os_compute_api:os-admin-actions:inject_network_info",
    rule: Rule::Admin,
};
pub const RESET_NETWORK: Policy = Policy {
    name: "os_compute_api:os-admin-actions:reset_network",
    rule: Rule::Admin,
};
pub const MIGRATIONS_DELETE: Policy = Policy {
    name: "os_compute_api:servers:migrations:delete",
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
pub const RESIZE: Policy = Policy {
    name: "os_compute_api:servers:resize",
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

/// The default rule of `policy` in `release`. The migrate rules were admin-only before 32.0.0
/// (`ProjectManagerMigratePolicy`). The owner rules were `admin_or_owner` (any role of the
/// project) until 27.0.0 turned `enforce_new_defaults` on (`NewPolicyDefaultsEnforced`):
/// 21.0.0 wrote the member defaults, but with the deprecated rule OR-ed in (spec §9, §11.12).
fn rule_in(policy: Policy, release: Release) -> Rule {
    match policy.rule {
        Rule::ProjectManagerOrAdmin if !release.has(Behaviour::ProjectManagerMigratePolicy) => {
            Rule::Admin
        }
        Rule::ProjectMemberOrAdmin if !release.has(Behaviour::NewPolicyDefaultsEnforced) => {
            Rule::ProjectOwnerOrAdmin
        }
        rule => rule,
    }
}

/// Checks `policy` for `caller` against a target owned by `owner` (the project matches when
/// the caller gives no project: it acts within the server's own project).
pub fn authorize(
    policy: Policy,
    caller: &Caller,
    owner: &str,
    release: Release,
) -> Result<(), ApiError> {
    let same_project = caller.project.as_deref().is_none_or(|p| p == owner);
    let allowed = match (caller.role, rule_in(policy, release)) {
        (_, Rule::ProjectOwnerOrAdmin) => caller.role == Role::Admin || same_project,
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
    use crate::config::Microversion;

    fn caller(role: Role, project: Option<&str>) -> Caller {
        Caller {
            microversion: Microversion::MAX,
            role,
            project: project.map(Into::into),
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
                authorize(*p, &caller(*role, None), "demo", Release::GAZPACHO).is_ok(),
                *ok,
                "{} {:?}",
                p.name,
                role
            );
        }
        let err = authorize(MIGRATE, &caller(Member, None), "demo", Release::GAZPACHO)
            .err()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(err.code, 403);
        assert_eq!(
            err.message,
            "Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed."
        );
        // A manager of another project does not match the project-scoped rule.
        assert!(authorize(
            MIGRATE,
            &caller(Manager, Some("other")),
            "demo",
            Release::GAZPACHO
        )
        .is_err());
    }

    /// Spec §9 history: admin-only migrate rules before 32.0.0; owner rules any project role in
    /// the rocky era.
    #[test]
    fn rocky_defaults_spec_9() {
        use Role::*;
        let rocky = Release::ROCKY;
        assert!(authorize(MIGRATE, &caller(Manager, None), "demo", rocky).is_err());
        assert!(authorize(MIGRATE_LIVE, &caller(Manager, None), "demo", rocky).is_err());
        assert!(authorize(MIGRATE_LIVE, &caller(Admin, None), "demo", rocky).is_ok());
        assert!(authorize(CONFIRM_RESIZE, &caller(Reader, None), "demo", rocky).is_ok());
        assert!(authorize(CONFIRM_RESIZE, &caller(Reader, Some("x")), "demo", rocky).is_err());
        assert!(authorize(
            MIGRATE_LIVE,
            &caller(Manager, None),
            "demo",
            Release::GAZPACHO
        )
        .is_ok());
    }

    /// `NewPolicyDefaultsEnforced` (27.0.0, `nova/policy.py` enforce_new_defaults) and
    /// `ProjectManagerMigratePolicy` (32.0.0, `nova/policies/migrate_server.py`): the release
    /// just before each keeps the old rule, the introducing release has the new one.
    #[test]
    fn policy_defaults_change_at_their_release() {
        use Role::*;
        let at = |s: &str| Release::parse(s).unwrap_or_else(|e| unreachable!("{e}"));
        let rows: &[(Policy, Role, &str, bool)] = &[
            (CONFIRM_RESIZE, Reader, "26.0.0", true),
            (CONFIRM_RESIZE, Reader, "27.0.0", false),
            (DELETE, Reader, "zed", true),
            (DELETE, Reader, "antelope", false),
            (MIGRATE, Manager, "31.0.0", false),
            (MIGRATE, Manager, "32.0.0", true),
            (MIGRATE_LIVE, Manager, "epoxy", false),
            (MIGRATE_LIVE, Manager, "flamingo", true),
        ];
        for (p, role, release, ok) in rows {
            let got = authorize(*p, &caller(*role, None), "demo", at(release)).is_ok();
            assert_eq!(got, *ok, "{} {role:?} at {release}", p.name);
        }
    }
}
