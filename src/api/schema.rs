//! Request-body schemas (`nova/api/openstack/compute/schemas/*.py`).

use super::ApiError;
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
            match inner.get("host") {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(h)) => {
                    let ok_chars = h
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
                    if h.is_empty() || h.len() > 255 || !ok_chars {
                        Err(invalid(format!("'{h}' is not a valid host name")))
                    } else {
                        Ok(Some(h.clone()))
                    }
                }
                Some(other) => Err(invalid(format!("{other} is not of type 'string', 'null'"))),
            }
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
