//! The files planned into a pack so far, as the finders see them (`Planner::view`): layers of
//! maps from path to content, the newest last. A view keeps the layers it was given; the
//! planner adds to the newest layer where no view holds it, and starts a new one where a view
//! does, so that a view taken while a primitive records into the same pack (the gateway
//! primitive keeps one for its whole loop) costs no copy of what was planned before it. (One
//! map shared by the views was copied whole on the first insert after a view was taken: at
//! 100,000 tenants a second map of 134,000 entries, 4.7 MB, at the peak of `plan`.) A layer a
//! primitive filled with many files is rebuilt full at its end (`compact`).

use super::Overlaid;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Layers past this many are merged into one as the next one is started, so that looking a
/// path up stays a few searches whatever the script does.
const MAX_LAYERS: usize = 8;

/// `compact` rebuilds a layer of at least this many entries.
const COMPACTED_FROM: usize = 1024;

type Layer = BTreeMap<Arc<str>, Overlaid>;

/// See the module's documentation. Cloned, it is a view's: the layers are shared.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    layers: Vec<Arc<Layer>>,
}

impl Overlay {
    /// What is planned at `relative`: the newest layer's, where several have it.
    pub fn get(&self, relative: &str) -> Option<&Overlaid> {
        self.layers
            .iter()
            .rev()
            .find_map(|layer| layer.get(relative))
    }

    pub fn contains_key(&self, relative: &str) -> bool {
        self.layers.iter().any(|layer| layer.contains_key(relative))
    }

    /// Plans `content` at `relative`: in the newest layer when no view holds it, else in a
    /// new layer (the views keep what they saw).
    pub fn insert(&mut self, relative: Arc<str>, content: Overlaid) {
        if let Some(newest) = self.layers.last_mut().and_then(Arc::get_mut) {
            newest.insert(relative, content);
            return;
        }
        if self.layers.len() >= MAX_LAYERS {
            let mut merged = Layer::new();
            for layer in self.layers.drain(..) {
                // Older first, so that a newer layer's content of a path wins.
                merged.extend(Arc::unwrap_or_clone(layer));
            }
            self.layers.push(Arc::new(merged));
        }
        self.layers
            .push(Arc::new(BTreeMap::from([(relative, content)])));
    }

    /// Rebuilds the newest layer from its entries in order, where no view holds it: a map
    /// built one insert at a time in no order is about two thirds full (10 MB for the
    /// 134,000 user stores of 100,000 tenants), one built from sorted entries full (4.7 MB).
    /// For the end of a primitive that planned many files; a small layer is left as it is.
    pub fn compact(&mut self) {
        if let Some(newest) = self.layers.last_mut().and_then(Arc::get_mut) {
            if newest.len() >= COMPACTED_FROM {
                let entries = std::mem::take(newest);
                *newest = entries.into_iter().collect();
            }
        }
    }

    /// Planned paths below `dir` (pack-relative, without its trailing `/`), layer by layer: a
    /// path planned in two layers comes twice (the callers gather names into sets).
    pub fn below<'a>(&'a self, dir: &str) -> impl Iterator<Item = &'a str> + 'a {
        let prefix = format!("{dir}/");
        self.layers.iter().flat_map(move |layer| {
            let prefix = prefix.clone();
            layer
                .range::<str, _>((
                    std::ops::Bound::Included(prefix.as_str()),
                    std::ops::Bound::Unbounded,
                ))
                .map(|(key, _)| &**key)
                .take_while(move |key| key.starts_with(&prefix))
        })
    }

    /// How many layers there are (for the tests).
    #[cfg(test)]
    fn layers(&self) -> usize {
        self.layers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(text: &str) -> Overlaid {
        Overlaid::Bytes(Arc::new(text.as_bytes().to_vec()))
    }

    fn text(content: Option<&Overlaid>) -> Option<String> {
        match content {
            Some(Overlaid::Bytes(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        }
    }

    #[test]
    fn a_view_keeps_what_it_saw_and_costs_no_copy_of_what_was_planned() {
        let mut planned = Overlay::default();
        planned.insert("a/1.xml".into(), bytes("one"));
        planned.insert("a/2.xml".into(), bytes("two"));
        assert_eq!(planned.layers(), 1);

        // Taken while more is planned: it sees what was planned before it, and only that.
        let view = planned.clone();
        planned.insert("a/3.xml".into(), bytes("three"));
        planned.insert("a/1.xml".into(), bytes("one, again"));
        planned.insert("b/4.xml".into(), bytes("four"));
        assert_eq!(planned.layers(), 2);
        assert!(Arc::ptr_eq(&planned.layers[0], &view.layers[0]));
        assert_eq!(text(view.get("a/1.xml")).as_deref(), Some("one"));
        assert!(!view.contains_key("a/3.xml") && view.get("b/4.xml").is_none());
        let mut seen: Vec<&str> = view.below("a").collect();
        seen.sort_unstable();
        assert_eq!(seen, ["a/1.xml", "a/2.xml"]);

        // The planner sees all of it, the newest content of a path planned twice.
        assert_eq!(text(planned.get("a/1.xml")).as_deref(), Some("one, again"));
        assert!(planned.contains_key("a/3.xml") && planned.contains_key("b/4.xml"));
        let mut seen: Vec<&str> = planned.below("a").collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen, ["a/1.xml", "a/2.xml", "a/3.xml"]);
        assert_eq!(planned.below("b").collect::<Vec<_>>(), ["b/4.xml"]);
        assert_eq!(planned.below("c").count(), 0);

        // With the view gone, the newest layer takes what comes next.
        drop(view);
        planned.insert("b/5.xml".into(), bytes("five"));
        assert_eq!(planned.layers(), 2);
    }

    #[test]
    fn a_layer_rebuilt_keeps_what_it_holds_and_one_a_view_holds_is_left() {
        let mut planned = Overlay::default();
        let count = 3 * COMPACTED_FROM;
        // In no order, as a listing gives them.
        for index in (0..count).map(|index| (index * 7919) % count) {
            planned.insert(
                format!("t/{index:05}.xml").into(),
                bytes(&index.to_string()),
            );
        }
        planned.compact();
        assert_eq!(planned.layers(), 1);
        assert_eq!(planned.below("t").count(), count);
        for index in [0, 1, count / 2, count - 1] {
            assert_eq!(
                text(planned.get(&format!("t/{index:05}.xml"))),
                Some(index.to_string())
            );
        }
        let view = planned.clone();
        planned.compact();
        assert!(Arc::ptr_eq(&planned.layers[0], &view.layers[0]));
    }

    #[test]
    fn layers_past_the_limit_are_merged_and_each_view_still_sees_its_own() {
        let mut planned = Overlay::default();
        let mut views = Vec::new();
        for index in 0..3 * MAX_LAYERS {
            views.push(planned.clone());
            planned.insert(format!("d/{index}.xml").into(), bytes(&index.to_string()));
            planned.insert("d/same.xml".into(), bytes(&index.to_string()));
            assert!(planned.layers() <= MAX_LAYERS, "{index}");
        }
        for (index, view) in views.iter().enumerate() {
            assert_eq!(
                view.below("d").filter(|path| *path != "d/same.xml").count(),
                index
            );
            let expected = index.checked_sub(1).map(|last| last.to_string());
            assert_eq!(text(view.get("d/same.xml")), expected, "{index}");
        }
        assert_eq!(
            text(planned.get("d/same.xml")),
            Some((3 * MAX_LAYERS - 1).to_string())
        );
        for index in 0..3 * MAX_LAYERS {
            assert!(planned.contains_key(&format!("d/{index}.xml")));
        }
    }
}
