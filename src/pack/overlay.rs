//! The files planned into a pack so far, as the finders see them (`Planner::view`): layers of
//! maps from path to content, the newest last. A view keeps the layers it was given; the
//! planner adds to the newest layer where no view holds it, and starts a new one where a view
//! does, so that a view taken while a primitive records into the same pack (the gateway
//! primitive keeps one for its whole loop) costs no copy of what was planned before it. (One
//! map shared by the views was copied whole on the first insert after a view was taken: at
//! 100,000 tenants a second map of 134,000 entries, 4.7 MB, at the peak of `plan`.)
//!
//! A layer keeps its entries in two maps: those settled, a B-tree built full, and those
//! recorded since, a small one that takes the inserts. A B-tree built one insert at a time in
//! no order is about two thirds full (10 MB for the 134,000 user stores of 100,000 tenants
//! against 6 MB built full), and rebuilding it whole at the end took a list of all its
//! entries besides (6.4 MB): the peak of `plan`. The recent map is merged into the settled one
//! by `BTreeMap::append`, which builds the result full from the two in order without a list,
//! each time it reaches a quarter of the settled map's size (so each entry is moved a few
//! times in all), and at the end of a primitive that planned many files (`compact`).
//!
//! Most files planned are copies of the file at the same path in another pack (each
//! tenant's user stores): an entry of one holds that pack's root alone (`Held::SamePath`),
//! 32 bytes with its key instead of 48.

use super::root::{PackRoot, SourceFile};
use super::Overlaid;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Layers past this many are merged into one as the next one is started, so that looking a
/// path up stays a few searches whatever the script does.
const MAX_LAYERS: usize = 8;

/// A layer's recent entries are settled once they are this many and a quarter of the settled
/// ones; `compact` settles a layer of at least this many entries.
const COMPACTED_FROM: usize = 1024;

type Map = BTreeMap<Arc<str>, Held>;

/// What a layer holds at a path: see the module's documentation.
#[derive(Debug, Clone)]
enum Held {
    /// The file at the same path in the pack of this root.
    SamePath(Arc<PackRoot>),
    Other(Box<Overlaid>),
}

impl Held {
    fn of(relative: &str, content: Overlaid) -> Held {
        match content {
            Overlaid::File(SourceFile::InPack(root, path)) if *path == *relative => {
                Held::SamePath(root)
            }
            other => Held::Other(Box::new(other)),
        }
    }

    /// The content planned at `relative`, the path it is held at.
    fn content(&self, relative: &Arc<str>) -> Overlaid {
        match self {
            Held::SamePath(root) => {
                Overlaid::File(SourceFile::InPack(root.clone(), relative.clone()))
            }
            Held::Other(content) => (**content).clone(),
        }
    }
}

/// One layer: see the module's documentation. Where a path is in both maps, the recent
/// entry is the newer.
#[derive(Debug, Clone, Default)]
struct Layer {
    settled: Map,
    recent: Map,
}

impl Layer {
    fn get(&self, relative: &str) -> Option<Overlaid> {
        self.recent
            .get_key_value(relative)
            .or_else(|| self.settled.get_key_value(relative))
            .map(|(key, held)| held.content(key))
    }

    fn contains_key(&self, relative: &str) -> bool {
        self.recent.contains_key(relative) || self.settled.contains_key(relative)
    }

    fn len(&self) -> usize {
        self.settled.len() + self.recent.len()
    }

    fn insert(&mut self, relative: Arc<str>, content: Overlaid) {
        let held = Held::of(&relative, content);
        self.recent.insert(relative, held);
        if self.recent.len() >= COMPACTED_FROM && self.recent.len() * 4 >= self.settled.len() {
            self.settle();
        }
    }

    /// Takes `older`'s entries under its own (its own win where both have a path).
    fn over(mut self, older: Layer) -> Layer {
        let mut merged = older;
        merged.settled.append(&mut merged.recent);
        merged.settled.append(&mut self.settled);
        merged.settled.append(&mut self.recent);
        merged
    }

    /// Merges the recent entries into the settled ones, the result built full.
    fn settle(&mut self) {
        if self.settled.is_empty() {
            // `append` into an empty map takes the other one as it is, not rebuilt: start
            // the settled map with one entry.
            if let Some((relative, content)) = self.recent.pop_first() {
                self.settled.insert(relative, content);
            }
        }
        self.settled.append(&mut self.recent);
    }

    fn below<'a>(&'a self, prefix: &str) -> impl Iterator<Item = &'a str> + 'a {
        let from = |map: &'a Map| {
            let prefix = prefix.to_owned();
            map.range::<str, _>((
                std::ops::Bound::Included(prefix.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .map(|(key, _)| &**key)
            .take_while(move |key| key.starts_with(&prefix))
        };
        from(&self.settled).chain(from(&self.recent))
    }
}

/// See the module's documentation. Cloned, it is a view's: the layers are shared.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    layers: Vec<Arc<Layer>>,
}

impl Overlay {
    /// What is planned at `relative`: the newest layer's, where several have it.
    pub fn get(&self, relative: &str) -> Option<Overlaid> {
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
            let merged = self
                .layers
                .drain(..)
                .map(Arc::unwrap_or_clone)
                .reduce(|older, newer| newer.over(older))
                .unwrap_or_default();
            self.layers.push(Arc::new(merged));
        }
        let mut layer = Layer::default();
        layer.insert(relative, content);
        self.layers.push(Arc::new(layer));
    }

    /// Settles the newest layer's recent entries, where no view holds it and it has at least
    /// `COMPACTED_FROM` entries: for the end of a primitive that planned many files (a small
    /// layer is left as it is).
    pub fn compact(&mut self) {
        if let Some(newest) = self.layers.last_mut().and_then(Arc::get_mut) {
            if newest.len() >= COMPACTED_FROM {
                newest.settle();
            }
        }
    }

    /// Planned paths below `dir` (pack-relative, without its trailing `/`), layer by layer: a
    /// path planned in two layers comes twice (the callers gather names into sets).
    pub fn below<'a>(&'a self, dir: &str) -> impl Iterator<Item = &'a str> + 'a {
        let prefix = format!("{dir}/");
        self.layers
            .iter()
            .flat_map(move |layer| layer.below(&prefix))
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

    fn text(content: Option<Overlaid>) -> Option<String> {
        match content {
            Some(Overlaid::Bytes(bytes)) => Some(String::from_utf8_lossy(&bytes).into_owned()),
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
    fn recent_entries_are_settled_as_they_grow_and_the_newest_content_wins() {
        let mut planned = Overlay::default();
        let count = 5 * COMPACTED_FROM;
        for index in (0..count).map(|index| (index * 7919) % count) {
            planned.insert(format!("t/{index:05}.xml").into(), bytes("first"));
        }
        let layer = &planned.layers[0];
        assert!(layer.settled.len() >= count / 2, "{}", layer.settled.len());
        assert!(layer.recent.len() < COMPACTED_FROM.max(layer.settled.len() / 4) + 1);
        // Planned again: some of them settled, some recent; the newest content wins, before
        // and after they are settled.
        for index in (0..count).step_by(3) {
            planned.insert(format!("t/{index:05}.xml").into(), bytes("second"));
        }
        let check = |planned: &Overlay| {
            for index in 0..count {
                let expected = if index % 3 == 0 { "second" } else { "first" };
                let path = format!("t/{index:05}.xml");
                assert_eq!(
                    text(planned.get(&path)).as_deref(),
                    Some(expected),
                    "{path}"
                );
                assert!(planned.contains_key(&path));
            }
            let mut seen: Vec<&str> = planned.below("t").collect();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), count);
        };
        check(&planned);
        planned.compact();
        assert!(planned.layers[0].recent.is_empty());
        assert_eq!(planned.layers[0].settled.len(), count);
        check(&planned);
    }

    #[test]
    fn a_copy_from_the_same_path_is_held_by_its_root_and_read_back_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("t/1")).expect("mkdir");
        std::fs::write(dir.path().join("t/1/a.xml"), "one").expect("write");
        std::fs::write(dir.path().join("t/1/b.xml"), "two").expect("write");
        let root = Arc::new(PackRoot::open(dir.path()).expect("root"));
        let mut planned = Overlay::default();
        let same: Arc<str> = "t/1/a.xml".into();
        planned.insert(
            same.clone(),
            Overlaid::File(SourceFile::in_pack(&root, "t/1/a.xml")),
        );
        // From another path: held whole.
        planned.insert(
            "t/2/a.xml".into(),
            Overlaid::File(SourceFile::in_pack(&root, "t/1/b.xml")),
        );
        let layer = &planned.layers[0];
        assert!(matches!(
            layer.recent.get("t/1/a.xml"),
            Some(Held::SamePath(_))
        ));
        assert!(matches!(
            layer.recent.get("t/2/a.xml"),
            Some(Held::Other(_))
        ));
        let read = |path: &str| match planned.get(path) {
            Some(Overlaid::File(source)) => {
                let (mut file, _) = source.open().expect("open");
                let mut text = String::new();
                std::io::Read::read_to_string(&mut file, &mut text).expect("read");
                text
            }
            other => panic!("{path}: {other:?}"),
        };
        assert_eq!(read("t/1/a.xml"), "one");
        assert_eq!(read("t/2/a.xml"), "two");
        assert!(planned.get("t/1/b.xml").is_none());
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
