//! A municipality's areas (bydeler, grender), imported from GeoJSON: each feature a named
//! polygon with the postcodes inside it. Used to choose who a crisis reaches and to draw the
//! CAP alert's polygons.

use crate::actor::Actor;
use serde_json::Value;
use torg_store::{Area, Municipality, Store, StoreError, Topic};

#[derive(Debug, thiserror::Error)]
pub enum AreaError {
    #[error("the file is not GeoJSON: {0}")]
    NotJson(String),
    #[error("feature {0}: {1}")]
    Feature(usize, &'static str),
    #[error(
        "the file has no features; write a FeatureCollection of Polygon features with a \"name\" property"
    )]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The areas of a GeoJSON text: a FeatureCollection (or one Feature) of Polygon or
/// MultiPolygon features (the first polygon's outer ring is kept), each with a `name` and,
/// optionally, `postcodes` (a list, or text separated by commas or spaces).
pub fn parse_geojson(text: &str) -> Result<Vec<Area>, AreaError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| AreaError::NotJson(e.to_string()))?;
    let features: Vec<&Value> = match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => doc
            .get("features")
            .and_then(Value::as_array)
            .map(|f| f.iter().collect())
            .unwrap_or_default(),
        Some("Feature") => vec![&doc],
        _ => {
            return Err(AreaError::NotJson(
                "expected a FeatureCollection or a Feature".into(),
            ));
        }
    };
    if features.is_empty() {
        return Err(AreaError::Empty);
    }
    let mut areas = vec![];
    for (i, f) in features.iter().enumerate() {
        let n = i + 1;
        let props = f.get("properties");
        let name = props
            .and_then(|p| p.get("name").or_else(|| p.get("navn")))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 100)
            .ok_or(AreaError::Feature(
                n,
                "it needs a \"name\" property (at most 100 characters)",
            ))?;
        let postcodes = match props.and_then(|p| p.get("postcodes").or_else(|| p.get("postnummer")))
        {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.trim().to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            Some(Value::String(s)) => s
                .split([',', ' '])
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
            _ => vec![],
        };
        if postcodes.iter().any(|p: &String| {
            p.is_empty() || p.len() > 10 || !p.chars().all(|c| c.is_ascii_digit())
        }) {
            return Err(AreaError::Feature(n, "postcodes are digits only"));
        }
        let geometry = f
            .get("geometry")
            .ok_or(AreaError::Feature(n, "it has no geometry"))?;
        let ring = match geometry.get("type").and_then(Value::as_str) {
            Some("Polygon") => geometry.pointer("/coordinates/0"),
            Some("MultiPolygon") => geometry.pointer("/coordinates/0/0"),
            _ => {
                return Err(AreaError::Feature(
                    n,
                    "its geometry must be a Polygon or MultiPolygon",
                ));
            }
        }
        .and_then(Value::as_array)
        .ok_or(AreaError::Feature(n, "its polygon has no outer ring"))?;
        let mut polygon = vec![];
        for point in ring {
            let lon = point.get(0).and_then(Value::as_f64);
            let lat = point.get(1).and_then(Value::as_f64);
            match (lon, lat) {
                (Some(lon), Some(lat))
                    if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) =>
                {
                    polygon.push((lon, lat));
                }
                _ => {
                    return Err(AreaError::Feature(
                        n,
                        "a point is not [longitude, latitude]",
                    ));
                }
            }
        }
        if polygon.len() < 4 || polygon.first() != polygon.last() {
            return Err(AreaError::Feature(
                n,
                "a polygon's ring needs at least four points, the last the same as the first",
            ));
        }
        areas.push(Area {
            id: 0,
            name: name.to_string(),
            polygon,
            postcodes,
        });
    }
    Ok(areas)
}

/// Imports areas from GeoJSON: each is added, or replaces the one with its name.
pub async fn import(
    store: &dyn Store,
    actor: &Actor,
    m: &Municipality,
    geojson: &str,
) -> Result<Vec<Area>, AreaError> {
    let areas = parse_geojson(geojson)?;
    let mut saved = vec![];
    for a in &areas {
        let entry = actor.entry(
            "area.imported",
            format!("area:{}", a.name),
            format!("{} points", a.polygon.len()),
        );
        saved.push(store.put_area(m.id, a, Some(entry)).await?);
    }
    Ok(saved)
}

/// Adds a topic citizens may subscribe to, or renames it.
pub async fn put_topic(
    store: &dyn Store,
    actor: &Actor,
    m: &Municipality,
    key: &str,
    name: &str,
) -> Result<Topic, AreaError> {
    let key = torg_domain::subscription::topic_key(key).ok_or(AreaError::Feature(
        0,
        "a topic's key is letters, digits and dashes",
    ))?;
    let topic = Topic {
        key,
        name: name.trim().to_string(),
    };
    let entry = actor.entry(
        "topic.set",
        format!("topic:{}", topic.key),
        topic.name.clone(),
    );
    store.put_topic(m.id, &topic, Some(entry)).await?;
    Ok(topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_become_areas() {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"name":"Sentrum","postcodes":["1400","1401"]},
           "geometry":{"type":"Polygon","coordinates":[[[10.8,59.7],[10.9,59.7],[10.9,59.8],[10.8,59.7]]]}},
          {"type":"Feature","properties":{"navn":"Nord","postnummer":"1402, 1403"},
           "geometry":{"type":"MultiPolygon","coordinates":[[[[10.8,59.8],[10.9,59.8],[10.9,59.9],[10.8,59.8]]]]}}]}"#;
        let areas = parse_geojson(text).expect("test value");
        assert_eq!(areas.len(), 2);
        assert_eq!(areas[0].postcodes, vec!["1400", "1401"]);
        assert_eq!(areas[1].name, "Nord");
        assert_eq!(areas[1].postcodes, vec!["1402", "1403"]);
        assert_eq!(areas[1].polygon.len(), 4);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(matches!(
            parse_geojson("not json"),
            Err(AreaError::NotJson(_))
        ));
        let open_ring = r#"{"type":"Feature","properties":{"name":"A"},"geometry":{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,2]]]}}"#;
        assert!(matches!(
            parse_geojson(open_ring),
            Err(AreaError::Feature(1, _))
        ));
        let nameless = r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,1]]]}}"#;
        assert!(matches!(
            parse_geojson(nameless),
            Err(AreaError::Feature(1, _))
        ));
        let point = r#"{"type":"Feature","properties":{"name":"A"},"geometry":{"type":"Point","coordinates":[1,1]}}"#;
        assert!(parse_geojson(point).is_err());
        let far = r#"{"type":"Feature","properties":{"name":"A"},"geometry":{"type":"Polygon","coordinates":[[[500,1],[2,1],[2,2],[500,1]]]}}"#;
        assert!(parse_geojson(far).is_err());
        assert!(matches!(
            parse_geojson(r#"{"type":"FeatureCollection","features":[]}"#),
            Err(AreaError::Empty)
        ));
    }
}
