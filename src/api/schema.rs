//! Request-body schemas (`nova/api/openstack/compute/schemas/*.py`).

use super::ApiError;
use crate::config::Microversion;
use serde_json::Value;

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(
        400,
        format!("Invalid input for field/attribute. {}", msg.into()),
    )
}

/// The body must be an object whose only key is `key` (value unconstrained), as the
/// confirmResize / revertResize schemas require (spec §3.3, §3.4).
pub fn action_key_only(body: &Value, key: &str) -> Result<(), ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| invalid("Request body must be an object."))?;
    if !obj.contains_key(key) {
        return Err(invalid(format!("'{key}' is a required property")));
    }
    if let Some(extra) = obj.keys().find(|k| k.as_str() != key) {
        return Err(invalid(format!(
            "Additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    Ok(())
}

/// `resize` schema (`nova/api/openstack/compute/schemas/servers.py` `resize`): `{"resize":
/// {"flavorRef": <string or integer>, "OS-DCF:diskConfig"?}}`, no other keys. Returns the
/// flavor reference as a string.
pub fn resize(body: &Value) -> Result<String, ApiError> {
    action_key_only(body, "resize")?;
    let inner = body["resize"]
        .as_object()
        .ok_or_else(|| invalid("Invalid input for field/attribute resize."))?;
    if let Some(extra) = inner
        .keys()
        .find(|k| !matches!(k.as_str(), "flavorRef" | "OS-DCF:diskConfig"))
    {
        return Err(invalid(format!(
            "Additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    match inner.get("flavorRef") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(invalid("Invalid input for field/attribute flavorRef.")),
        None => Err(invalid("'flavorRef' is a required property")),
    }
}

/// `migrate` schema from 2.56 (spec §3.1): `{"migrate": null}` or
/// `{"migrate": {"host": <string or null>}}`, `host` matching `^[a-zA-Z0-9-._]*$`, length
/// 1–255, no other keys. Returns the host name if one was given.
pub fn migrate_v2_56(body: &Value) -> Result<Option<String>, ApiError> {
    action_key_only(body, "migrate")?;
    match &body["migrate"] {
        Value::Null => Ok(None),
        Value::Object(inner) => {
            if let Some(extra) = inner.keys().find(|k| k.as_str() != "host") {
                return Err(invalid(format!(
                    "Additional properties are not allowed ('{extra}' was unexpected)"
                )));
            }
            inner.get("host").map_or(Ok(None), host_name)
        }
        other => Err(invalid(format!("{other} is not of type 'object', 'null'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Spec §3.1 body table for ≥ 2.56.
    #[test]
    fn migrate_schema_spec_3_1() {
        assert_eq!(migrate_v2_56(&json!({"migrate": null})), Ok(None));
        assert_eq!(migrate_v2_56(&json!({"migrate": {}})), Ok(None));
        assert_eq!(migrate_v2_56(&json!({"migrate": {"host": null}})), Ok(None));
        assert_eq!(
            migrate_v2_56(&json!({"migrate": {"host": "cmp-1.dc_2"}})),
            Ok(Some("cmp-1.dc_2".into()))
        );
        for bad in [
            json!({}),
            json!({"migrate": null, "x": 1}),
            json!({"migrate": {"host": "a b"}}),
            json!({"migrate": {"host": ""}}),
            json!({"migrate": {"host": 3}}),
            json!({"migrate": {"hots": "h1"}}),
            json!({"migrate": "h1"}),
            json!([1]),
        ] {
            assert_eq!(migrate_v2_56(&bad).map_err(|e| e.code), Err(400), "{bad}");
        }
        let long = "a".repeat(256);
        assert!(migrate_v2_56(&json!({"migrate": {"host": long}})).is_err());
    }

    /// Spec §3.3/§3.4: the action key is required, its value unconstrained, no other keys.
    #[test]
    fn confirm_revert_schema() {
        assert!(action_key_only(&json!({"confirmResize": null}), "confirmResize").is_ok());
        assert!(action_key_only(&json!({"confirmResize": {"a": 1}}), "confirmResize").is_ok());
        assert!(action_key_only(&json!({"revertResize": null, "b": 2}), "revertResize").is_err());
        assert!(action_key_only(&json!({"confirm": null}), "confirmResize").is_err());
    }
}

/// `parameter_types.boolean` (spec §3.2): JSON booleans or their accepted string spellings.
pub fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.as_str() {
            "True" | "TRUE" | "true" | "1" | "ON" | "On" | "on" | "YES" | "Yes" | "yes" => {
                Some(true)
            }
            "False" | "FALSE" | "false" | "0" | "OFF" | "Off" | "off" | "NO" | "No" | "no" => {
                Some(false)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The `os-migrateLive` body, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveBody {
    pub host: Option<String>,
    /// `None` = `"auto"` (the driver decides from the shared-storage checks).
    pub block_migration: Option<bool>,
    pub force: Option<bool>,
}

/// A `host` value: null, or a name matching `^[a-zA-Z0-9-._]*$` of length 1–255.
fn host_name(v: &Value) -> Result<Option<String>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(h) => {
            let ok_chars = h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
            if h.is_empty() || h.len() > 255 || !ok_chars {
                Err(invalid(format!("'{h}' is not a valid host name")))
            } else {
                Ok(Some(h.clone()))
            }
        }
        other => Err(invalid(format!("{other} is not of type 'string', 'null'"))),
    }
}

/// `migrate_live`, `migrate_live_v2_25`, `migrate_live_v2_30`, `migrate_live_v2_68` schemas
/// (spec §3.2 body table).
pub fn migrate_live(body: &Value, mv: Microversion) -> Result<LiveBody, ApiError> {
    action_key_only(body, "os-migrateLive")?;
    let inner = body["os-migrateLive"]
        .as_object()
        .ok_or_else(|| invalid("'os-migrateLive' must be an object"))?;
    let v2_25 = mv >= Microversion(2, 25);
    let force_allowed = mv >= Microversion(2, 30) && mv < Microversion(2, 68);
    let allowed: &[&str] = if !v2_25 {
        &["host", "block_migration", "disk_over_commit"]
    } else if force_allowed {
        &["host", "block_migration", "force"]
    } else {
        &["host", "block_migration"]
    };
    if let Some(extra) = inner.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(format!(
            "Additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    let required: &[&str] = if v2_25 {
        &["host", "block_migration"]
    } else {
        &["host", "block_migration", "disk_over_commit"]
    };
    if let Some(missing) = required.iter().find(|k| !inner.contains_key(**k)) {
        return Err(invalid(format!("'{missing}' is a required property")));
    }
    let host = host_name(&inner["host"])?;
    let bm = &inner["block_migration"];
    let block_migration = if v2_25 && bm.as_str() == Some("auto") {
        None
    } else {
        Some(boolean(bm).ok_or_else(|| invalid(format!("{bm} is not a valid boolean")))?)
    };
    if !v2_25 {
        let d = &inner["disk_over_commit"];
        boolean(d).ok_or_else(|| invalid(format!("{d} is not a valid boolean")))?;
    }
    let force = match inner.get("force") {
        None => None,
        Some(f) => Some(boolean(f).ok_or_else(|| invalid(format!("{f} is not a valid boolean")))?),
    };
    Ok(LiveBody {
        host,
        block_migration,
        force,
    })
}

/// `reset_state` schema (spec §3.5): `{"os-resetState": {"state": "active" | "error"}}`.
pub fn reset_state(body: &Value) -> Result<crate::model::VmState, ApiError> {
    action_key_only(body, "os-resetState")?;
    let inner = body["os-resetState"]
        .as_object()
        .ok_or_else(|| invalid("'os-resetState' must be an object"))?;
    if let Some(extra) = inner.keys().find(|k| k.as_str() != "state") {
        return Err(invalid(format!(
            "Additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    match inner.get("state").and_then(Value::as_str) {
        Some("active") => Ok(crate::model::VmState::Active),
        Some("error") => Ok(crate::model::VmState::Error),
        Some(other) => Err(invalid(format!(
            "'{other}' is not one of ['active', 'error']"
        ))),
        None => Err(invalid("'state' is a required property")),
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;
    use serde_json::json;

    fn mv(m: u16) -> Microversion {
        Microversion(2, m)
    }

    /// Spec §3.2 body table, per microversion range.
    #[test]
    fn migrate_live_schema_spec_3_2() {
        let old = json!({"os-migrateLive": {"host": null, "block_migration": false, "disk_over_commit": "no"}});
        assert_eq!(
            migrate_live(&old, mv(1)),
            Ok(LiveBody {
                host: None,
                block_migration: Some(false),
                force: None
            })
        );
        // disk_over_commit removed at 2.25 (sending it ⇒ 400); "auto" from 2.25.
        assert_eq!(migrate_live(&old, mv(25)).map_err(|e| e.code), Err(400));
        let auto = json!({"os-migrateLive": {"host": "h2", "block_migration": "auto"}});
        assert_eq!(migrate_live(&auto, mv(24)).map_err(|e| e.code), Err(400));
        assert_eq!(
            migrate_live(&auto, mv(25)),
            Ok(LiveBody {
                host: Some("h2".into()),
                block_migration: None,
                force: None
            })
        );
        // force only in 2.30–2.67.
        let forced =
            json!({"os-migrateLive": {"host": "h2", "block_migration": "auto", "force": "yes"}});
        assert_eq!(migrate_live(&forced, mv(29)).map_err(|e| e.code), Err(400));
        assert_eq!(
            migrate_live(&forced, mv(30)).map(|b| b.force),
            Ok(Some(true))
        );
        assert_eq!(
            migrate_live(&forced, mv(67)).map(|b| b.force),
            Ok(Some(true))
        );
        assert_eq!(migrate_live(&forced, mv(68)).map_err(|e| e.code), Err(400));
        // host and block_migration are required.
        let missing = json!({"os-migrateLive": {"block_migration": "auto"}});
        assert_eq!(migrate_live(&missing, mv(68)).map_err(|e| e.code), Err(400));
        let bad_bool = json!({"os-migrateLive": {"host": null, "block_migration": 1}});
        assert_eq!(
            migrate_live(&bad_bool, mv(68)).map_err(|e| e.code),
            Err(400)
        );
    }

    #[test]
    fn booleans_accept_nova_spellings() {
        for t in [
            "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
        ] {
            assert_eq!(boolean(&json!(t)), Some(true), "{t}");
        }
        for f in [
            "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no",
        ] {
            assert_eq!(boolean(&json!(f)), Some(false), "{f}");
        }
        assert_eq!(boolean(&json!(1)), None);
        assert_eq!(boolean(&json!("maybe")), None);
    }

    /// Spec §3.5: state active|error, required, no extra keys.
    #[test]
    fn reset_state_schema_spec_3_5() {
        use crate::model::VmState;
        assert_eq!(
            reset_state(&json!({"os-resetState": {"state": "error"}})),
            Ok(VmState::Error)
        );
        for bad in [
            json!({"os-resetState": {"state": "stopped"}}),
            json!({"os-resetState": {}}),
            json!({"os-resetState": {"state": "active", "x": 1}}),
            json!({"os-resetState": null}),
        ] {
            assert_eq!(reset_state(&bad).map_err(|e| e.code), Err(400), "{bad}");
        }
    }
}
