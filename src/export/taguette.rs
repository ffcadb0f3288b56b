//! The codebook as Taguette's codebook CSV, with the ids Taguette ignores kept for the way back
//! (which is [`crate::interop`]'s).

use crate::codebook::{Codebook, DimensionKind};

use super::refi::CodeMarker;

/// Taguette's codebook CSV of a codebook: `path` (dimension, then value, joined by `.`, the
/// hierarchy Taguette shows), `description`, and a `marginalia` column with the ids that
/// Taguette ignores and Marginalia reads back. Dots inside labels become `·` so they do not
/// split the path.
pub fn taguette_csv(codebook: &Codebook) -> Result<Vec<u8>, csv::Error> {
    let clean = |s: &str| s.replace('.', "·");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["path", "description", "marginalia"])?;
    for d in &codebook.dimensions {
        let marker = CodeMarker::of_dimension(codebook, d);
        let json = serde_json::to_string(&marker).expect("markers serialize");
        w.write_record([clean(&d.label), d.description.clone(), json])?;
        let values: Vec<(String, String, String, Option<String>)> = match d.kind {
            DimensionKind::Entity => d
                .known_values
                .iter()
                .map(|v| (v.clone(), v.clone(), String::new(), None))
                .collect(),
            _ => d
                .values
                .iter()
                .map(|v| {
                    (
                        v.id.clone(),
                        v.label.clone(),
                        v.description.clone(),
                        v.key.clone(),
                    )
                })
                .collect(),
        };
        for (id, label, description, key) in values {
            let marker = CodeMarker {
                dimension: d.id.clone(),
                value: Some(id),
                label: Some(label.clone()),
                key,
                in_codebook: true,
                ..CodeMarker::default()
            };
            let json = serde_json::to_string(&marker).expect("markers serialize");
            w.write_record([
                format!("{}.{}", clean(&d.label), clean(&label)),
                description,
                json,
            ])?;
        }
    }
    // Writing into memory fails only as the CSV writer's own errors do.
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
