//! The codebook as Taguette's codebook CSV, with the ids Taguette ignores kept for the way back
//! (which is [`crate::interop`]'s).

use crate::codebook::{Codebook, DimensionKind};

use super::refi::CodeMarker;

/// Taguette's codebook CSV of a codebook: `path` (dimension, then value, joined by `.`, the
/// hierarchy Taguette shows), `description`, and a `marginalia` column with the ids that
/// Taguette ignores and Marginalia reads back. Dots inside labels become `·` so they do not
/// split the path.
pub fn taguette_csv(codebook: &Codebook) -> Result<Vec<u8>, String> {
    let clean = |s: &str| s.replace('.', "·");
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| e.to_string();
    w.write_record(["path", "description", "marginalia"])
        .map_err(e)?;
    for d in &codebook.dimensions {
        let marker = CodeMarker {
            dimension: d.id.clone(),
            applies_to: Some(d.applies_to),
            kind: Some(d.kind),
            key: d.key.clone(),
            group: d.group.clone(),
            in_codebook: true,
            codebook: Some((codebook.id.clone(), codebook.name.clone())),
            ..CodeMarker::default()
        };
        let json = serde_json::to_string(&marker).expect("markers serialize");
        w.write_record([clean(&d.label), d.description.clone(), json])
            .map_err(e)?;
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
            ])
            .map_err(e)?;
        }
    }
    w.into_inner().map_err(|e| e.to_string())
}
