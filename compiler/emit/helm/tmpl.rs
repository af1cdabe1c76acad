//! Templates as a tree: literal parts, fields filled from values, and choices between
//! what the structural settings (mesh, replica regime) make different. The same tree is
//! evaluated here against each environment's values, to prove the chart renders that
//! environment exactly, and printed as Go template text for Helm.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::super::fastyaml;
use super::sample::{Knob, MESHES, Markers, REGIMES, Regime, TEXT, holds_text_marker};
use super::tree::Tree;
use super::values::mesh_name;
use crate::check::model::Mesh;

/// A set of samples (mesh × regime), as bits.
pub type Samples = u16;
pub const ALL: Samples = (1 << 9) - 1;

pub fn sample_bit(mesh: usize, regime: usize) -> Samples {
    1 << (mesh * 3 + regime)
}

/// When a part of a template applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    True,
    Mesh(Vec<Mesh>),
    /// The owner's values path (`services.api`) and the regimes.
    Regime(Vec<String>, Vec<Regime>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// The release is one of these environments (`.Values.environment`).
    Env(Vec<String>),
    Not(Box<Cond>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Lit(String),
    Expr(Knob),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Lit(Tree),
    Map(Vec<(String, Node, Cond)>),
    List(Vec<(Node, Cond)>),
    /// A scalar from a knob.
    Knob(Knob),
    /// A string with knobs inside.
    Text(Vec<Piece>),
    /// A whole map from the values (a config's entries).
    Yaml(Vec<String>),
    /// The first branch whose condition holds; nothing when none does.
    Choice(Vec<(Cond, Node)>),
}

// ---- building --------------------------------------------------------------------

/// Replaces the markers in a value with the knobs they stand for. The value is taken,
/// not copied: what holds no marker is moved into the template whole.
pub fn subst(v: Tree, mk: &Markers, key: Option<&str>) -> Node {
    match subst_in(v, mk, key) {
        Ok(unmarked) => Node::Lit(unmarked),
        Err(node) => node,
    }
}

/// [`subst`] in one walk of the value: the value back as it was when it holds no
/// marker (most of an object holds none, and is then neither copied nor walked again),
/// or its node.
fn subst_in(v: Tree, mk: &Markers, key: Option<&str>) -> Result<Tree, Node> {
    match v {
        Tree::Str(s) => {
            if key == Some(crate::ir::labels::MANAGED_BY) && s == "sorchac" {
                return Err(Node::Knob(Knob::Service));
            }
            if !mk.may_be(&s) {
                return Ok(Tree::Str(s));
            }
            if let Some(k) = mk.knob(&s) {
                // A number written as text stays text.
                if matches!(k, Knob::Value { int: true, .. }) {
                    return Err(Node::Text(vec![Piece::Expr(k.clone())]));
                }
                return Err(Node::Knob(k.clone()));
            }
            match pieces(&s, mk) {
                Some(p) => Err(Node::Text(p)),
                None => Ok(Tree::Str(s)),
            }
        }
        Tree::Int(i) => match mk.number.get(&i) {
            Some(k) => Err(Node::Knob(k.clone())),
            None => Ok(Tree::Int(i)),
        },
        Tree::Map(mut m) => {
            let children = m.iter_mut().map(|(k, v)| {
                let k: &Cow<'static, str> = k;
                (Some(k.as_ref()), v)
            });
            let Some((at, node)) = first_marked(children, mk) else {
                return Ok(Tree::Map(m));
            };
            let mut node = Some(node);
            let entries = m.into_iter().enumerate().map(|(i, (k, v))| {
                let n = after_first(i, at, v, &mut node, |v| subst(v, mk, Some(&k)));
                (k.into_owned(), n, Cond::True)
            });
            Err(Node::Map(entries.collect()))
        }
        Tree::List(mut items) => {
            let Some((at, node)) = first_marked(items.iter_mut().map(|v| (None, v)), mk) else {
                return Ok(Tree::List(items));
            };
            let mut node = Some(node);
            let items = items.into_iter().enumerate().map(|(i, v)| {
                let n = after_first(i, at, v, &mut node, |v| subst(v, mk, None));
                (n, Cond::True)
            });
            Err(Node::List(items.collect()))
        }
        other => Ok(other),
    }
}

/// Substitutes a map's or a list's children (each with its key) one by one, each put
/// back as it was while it holds no marker: the place of the first that holds one, with
/// its node.
fn first_marked<'t>(
    children: impl Iterator<Item = (Option<&'t str>, &'t mut Tree)>,
    mk: &Markers,
) -> Option<(usize, Node)> {
    for (at, (key, child)) in children.enumerate() {
        match subst_in(std::mem::replace(child, Tree::Null), mk, key) {
            Ok(unmarked) => *child = unmarked,
            Err(node) => return Some((at, node)),
        }
    }
    None
}

/// The node of child `i` once the child at `at` was found to hold a marker (its node
/// is `node`): the children before it hold none, and the rest are substituted in turn.
fn after_first(
    i: usize,
    at: usize,
    v: Tree,
    node: &mut Option<Node>,
    rest: impl FnOnce(Tree) -> Node,
) -> Node {
    match i.cmp(&at) {
        std::cmp::Ordering::Less => Node::Lit(v),
        std::cmp::Ordering::Equal => node.take().unwrap_or(Node::Lit(v)),
        std::cmp::Ordering::Greater => rest(v),
    }
}

/// A string split around the text markers inside it.
fn pieces(s: &str, mk: &Markers) -> Option<Vec<Piece>> {
    if !holds_text_marker(s) {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find(TEXT) {
        let end = at + 11;
        let marker = rest.get(at..end);
        match marker.and_then(|m| mk.knob(m)) {
            Some(k) => {
                if at > 0 {
                    out.push(Piece::Lit(rest[..at].to_string()));
                }
                out.push(Piece::Expr(k.clone()));
                rest = &rest[end..];
            }
            None => {
                out.push(Piece::Lit(rest[..at + TEXT.len()].to_string()));
                rest = &rest[at + TEXT.len()..];
            }
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest.to_string()));
    }
    Some(out)
}

/// The condition that holds on `mask` and not on the rest of `parent`.
pub fn cond_for(mask: Samples, parent: Samples, owner: Option<&[String]>) -> Option<Cond> {
    if mask == parent {
        return Some(Cond::True);
    }
    let meshes: Vec<usize> = (0..3)
        .filter(|m| (0..3).any(|r| mask & sample_bit(*m, r) != 0))
        .collect();
    let regimes: Vec<usize> = (0..3)
        .filter(|r| (0..3).any(|m| mask & sample_bit(m, *r) != 0))
        .collect();
    let by_mesh: Samples = meshes
        .iter()
        .flat_map(|m| (0..3).map(move |r| sample_bit(*m, r)))
        .fold(0, |a, b| a | b);
    if mask == parent & by_mesh {
        return Some(Cond::Mesh(meshes.iter().map(|m| MESHES[*m]).collect()));
    }
    let owner = owner?;
    let by_regime: Samples = regimes
        .iter()
        .flat_map(|r| (0..3).map(move |m| sample_bit(m, *r)))
        .fold(0, |a, b| a | b);
    if mask == parent & by_regime {
        return Some(Cond::Regime(
            owner.to_vec(),
            regimes.iter().map(|r| REGIMES[*r]).collect(),
        ));
    }
    let mut any = Vec::new();
    for m in meshes {
        let rs: Vec<Regime> = (0..3)
            .filter(|r| mask & sample_bit(m, *r) != 0)
            .map(|r| REGIMES[r])
            .collect();
        any.push(Cond::And(vec![
            Cond::Mesh(vec![MESHES[m]]),
            Cond::Regime(owner.to_vec(), rs),
        ]));
    }
    Some(Cond::Or(any))
}

/// Why two or more samples could not be joined into one template.
#[derive(Debug)]
pub struct Unjoinable;

/// One template from the samples of an object (each with the samples it stands for).
/// The samples are taken, not copied: their parts move into the template.
pub fn merge(
    variants: Vec<(Samples, Tree)>,
    mk: &Markers,
    owner: Option<&[String]>,
    key: Option<&str>,
) -> Result<Node, Unjoinable> {
    let parent: Samples = variants.iter().fold(0, |a, (s, _)| a | s);
    let (first, rest) = variants.split_first().ok_or(Unjoinable)?;
    if rest.iter().all(|(_, v)| v.same(&first.1)) {
        let first = variants.into_iter().next().ok_or(Unjoinable)?;
        return Ok(subst(first.1, mk, key));
    }
    let variants = if variants.iter().all(|(_, v)| matches!(v, Tree::Map(_))) {
        match merge_maps(variants, parent, mk, owner)? {
            Merged::Map(node) => return Ok(node),
            Merged::Wholes(variants) => variants,
        }
    } else {
        variants
    };
    let list_len = |v: &Tree| match v {
        Tree::List(items) => Some(items.len()),
        _ => None,
    };
    if let Some(len) = variants.iter().map(|(_, v)| list_len(v)).next()
        && len.is_some()
        && variants.iter().all(|(_, v)| list_len(v) == len)
    {
        let n = len.unwrap_or(0);
        let mut lists: Vec<(Samples, std::vec::IntoIter<Tree>)> = variants
            .into_iter()
            .map(|(s, v)| match v {
                Tree::List(items) => (s, items.into_iter()),
                _ => (s, Vec::new().into_iter()),
            })
            .collect();
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            let at: Vec<(Samples, Tree)> = lists
                .iter_mut()
                .filter_map(|(s, l)| l.next().map(|c| (*s, c)))
                .collect();
            items.push((merge(at, mk, owner, None)?, Cond::True));
        }
        return Ok(Node::List(items));
    }
    let variants = if variants.iter().all(|(_, v)| matches!(v, Tree::List(_))) {
        match aligned_lists(variants, parent, mk, owner) {
            Ok(node) => return Ok(node),
            Err(variants) => variants,
        }
    } else {
        variants
    };
    // Different wholes: a choice between them.
    let mut groups: Vec<(Samples, Tree)> = Vec::new();
    for (s, v) in variants {
        match groups.iter_mut().find(|(_, g)| g.same(&v)) {
            Some(g) => g.0 |= s,
            None => groups.push((s, v)),
        }
    }
    let mut branches = Vec::new();
    for (s, v) in groups {
        let cond = cond_for(s, parent, owner).ok_or(Unjoinable)?;
        branches.push((cond, subst(v, mk, key)));
    }
    Ok(unify_single(branches))
}

/// The most pairs of items two lists are compared in to align them, between the items
/// they start and end with alike; lists that differ more are a choice between wholes.
const ALIGN_LIMIT: usize = 4096;

/// Lists of different lengths as one list: the items the samples have alike, in the same
/// order, written once, and the others under the condition of the samples that have
/// them (a mesh's own egress rule, say). The lists are given back whole when this cannot
/// be done: when no item is in every sample (a list whose items all have conditions
/// renders as nothing rather than `[]`), when the samples of an item have no condition,
/// or when the lists differ too much to align.
fn aligned_lists(
    variants: Vec<(Samples, Tree)>,
    parent: Samples,
    mk: &Markers,
    owner: Option<&[String]>,
) -> Result<Node, Vec<(Samples, Tree)>> {
    let columns = {
        let lists: Vec<&[Tree]> = variants
            .iter()
            .map(|(_, v)| match v {
                Tree::List(items) => items.as_slice(),
                _ => &[],
            })
            .collect();
        align(&lists)
    };
    let Some(columns) = columns else {
        return Err(variants);
    };
    let mut conds = Vec::with_capacity(columns.len());
    for column in &columns {
        let mask = column
            .iter()
            .filter_map(|(v, _)| variants.get(*v))
            .fold(0, |a, (s, _)| a | s);
        match cond_for(mask, parent, owner) {
            Some(c) => conds.push(c),
            None => return Err(variants),
        }
    }
    if !conds.contains(&Cond::True) {
        return Err(variants);
    }
    // Each column's item is taken from the first sample in it; the others are alike.
    let mut lists: Vec<Vec<Option<Tree>>> = variants
        .into_iter()
        .map(|(_, v)| match v {
            Tree::List(items) => items.into_iter().map(Some).collect(),
            _ => Vec::new(),
        })
        .collect();
    let items = columns
        .iter()
        .zip(conds)
        .filter_map(|(column, cond)| {
            let (v, i) = column.first()?;
            let item = lists.get_mut(*v)?.get_mut(*i)?.take()?;
            Some((subst(item, mk, None), cond))
        })
        .collect();
    Ok(Node::List(items))
}

/// The items of several lists lined up: each column holds the items alike in the lists
/// that have one there, as (list, index), and every list's items come in its own order.
/// Each list is lined up with the columns of those before it on a longest common
/// subsequence, after the items they start and end with alike. `None` when two lists
/// differ in more than [`ALIGN_LIMIT`] pairs of items.
fn align(lists: &[&[Tree]]) -> Option<Vec<Vec<(usize, usize)>>> {
    let (first, rest) = lists.split_first()?;
    let mut columns: Vec<Vec<(usize, usize)>> = (0..first.len()).map(|i| vec![(0, i)]).collect();
    for (v, items) in rest.iter().enumerate().map(|(k, l)| (k + 1, *l)) {
        let alike = |column: &[(usize, usize)], item: &Tree| {
            column
                .first()
                .and_then(|(v, i)| lists.get(*v)?.get(*i))
                .is_some_and(|seen| seen.same(item))
        };
        let (n, m) = (columns.len(), items.len());
        let mut start = 0;
        while start < n.min(m) && alike(&columns[start], &items[start]) {
            start += 1;
        }
        let mut end = 0;
        while end < (n - start).min(m - start) && alike(&columns[n - 1 - end], &items[m - 1 - end])
        {
            end += 1;
        }
        let (cs, ys) = (&columns[start..n - end], &items[start..m - end]);
        if cs.len() * ys.len() > ALIGN_LIMIT {
            return None;
        }
        // `common[i * w + j]`: the longest common subsequence of `cs[i..]` and `ys[j..]`.
        let w = ys.len() + 1;
        let mut common = vec![0u32; (cs.len() + 1) * w];
        for i in (0..cs.len()).rev() {
            for j in (0..ys.len()).rev() {
                common[i * w + j] = if alike(&cs[i], &ys[j]) {
                    common[(i + 1) * w + j + 1] + 1
                } else {
                    common[(i + 1) * w + j].max(common[i * w + j + 1])
                };
            }
        }
        let with = |column: &[(usize, usize)], j: usize| {
            let mut c = column.to_vec();
            c.push((v, j));
            c
        };
        let mut merged = Vec::with_capacity(n + m);
        merged.extend((0..start).map(|k| with(&columns[k], k)));
        let (mut i, mut j) = (0, 0);
        while i < cs.len() || j < ys.len() {
            if i < cs.len() && j < ys.len() && alike(&cs[i], &ys[j]) {
                merged.push(with(&cs[i], start + j));
                i += 1;
                j += 1;
            } else if j == ys.len()
                || (i < cs.len() && common[(i + 1) * w + j] >= common[i * w + j + 1])
            {
                merged.push(cs[i].clone());
                i += 1;
            } else {
                merged.push(vec![(v, start + j)]);
                j += 1;
            }
        }
        merged.extend((0..end).map(|k| with(&columns[n - end + k], m - end + k)));
        columns = merged;
    }
    Some(columns)
}

/// Samples that are all maps: one map merged key by key, or, when no key of it is
/// unconditional, the samples back whole (they are then a choice between wholes).
enum Merged {
    Map(Node),
    Wholes(Vec<(Samples, Tree)>),
}

/// A sample's map entries, each taken out as its key is merged.
type Entries = Vec<(Cow<'static, str>, Option<Tree>)>;

fn merge_maps(
    variants: Vec<(Samples, Tree)>,
    parent: Samples,
    mk: &Markers,
    owner: Option<&[String]>,
) -> Result<Merged, Unjoinable> {
    let mut keys: Vec<Cow<'static, str>> = Vec::new();
    for (_, v) in &variants {
        if let Tree::Map(m) = v {
            for (k, _) in m {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    // A key every sample has is unconditional, and then the result is a map; only
    // without one can it turn out to be a choice, which needs the samples whole.
    let everywhere = keys
        .iter()
        .any(|k| variants.iter().all(|(_, v)| v.get(k).is_some()));
    let kept = (!everywhere).then(|| variants.clone());
    // Each sample's entries, taken out key by key (the keys nearly always come in the
    // same order in every sample, so each is looked for where the last one was first).
    let mut maps: Vec<(Samples, Entries, usize)> = variants
        .into_iter()
        .filter_map(|(s, v)| match v {
            Tree::Map(m) => Some((s, m.into_iter().map(|(k, v)| (k, Some(v))).collect(), 0)),
            _ => None,
        })
        .collect();
    let mut entries = Vec::with_capacity(keys.len());
    for k in keys {
        let present: Vec<(Samples, Tree)> = maps
            .iter_mut()
            .filter_map(|(s, m, next)| {
                let at = Tree::entry(m, &k, *next)?;
                *next = at + 1;
                m.get_mut(at)?.1.take().map(|c| (*s, c))
            })
            .collect();
        let mask = present.iter().fold(0, |a, (s, _)| a | s);
        let cond = cond_for(mask, parent, owner).ok_or(Unjoinable)?;
        let node = merge(present, mk, owner, Some(k.as_ref()))?;
        // A choice inside a condition: one level of conditions, where they compose.
        let (node, cond) = match (node, cond) {
            (Node::Choice(branches), Cond::Regime(o, rs))
                if branches
                    .iter()
                    .all(|(c, _)| matches!(c, Cond::Regime(bo, _) if *bo == o)) =>
            {
                let branches = branches
                    .into_iter()
                    .map(|(c, n)| match c {
                        Cond::Regime(bo, brs) => (
                            Cond::Regime(bo, brs.into_iter().filter(|r| rs.contains(r)).collect()),
                            n,
                        ),
                        c => (c, n),
                    })
                    .collect();
                (Node::Choice(branches), Cond::True)
            }
            (node, cond) => (node, cond),
        };
        entries.push((k.into_owned(), node, cond));
    }
    if entries.iter().any(|(_, _, c)| *c == Cond::True) {
        return Ok(Merged::Map(Node::Map(entries)));
    }
    kept.map(Merged::Wholes).ok_or(Unjoinable)
}

/// One replica is the replica count when it is 1: a choice between `1` (one replica)
/// and the count (a fixed number) is the count.
fn unify_single(mut branches: Vec<(Cond, Node)>) -> Node {
    let single = branches.iter().position(|(c, n)| {
        matches!(c, Cond::Regime(_, rs) if rs.as_slice() == [Regime::Single])
            && *n == Node::Lit(Tree::Int(1))
    });
    let fixed = branches.iter().position(|(c, n)| {
        matches!(c, Cond::Regime(o, rs) if rs.as_slice() == [Regime::Fixed]
            && matches!(n, Node::Knob(Knob::Value { path, .. })
                if path.len() == o.len() + 1 && path[..o.len()] == o[..] && path[o.len()] == "replicaCount"))
    });
    if let (Some(s), Some(f)) = (single, fixed)
        && let Cond::Regime(o, _) = &branches[f].0
    {
        branches[f].0 = Cond::Regime(o.clone(), vec![Regime::Single, Regime::Fixed]);
        branches.remove(s);
    }
    match branches.as_slice() {
        [(Cond::True, _)] => branches.remove(0).1,
        _ => Node::Choice(branches),
    }
}

/// Turns a config's entries in a ConfigMap's `data` into the whole map from the values.
pub fn config_data(node: &mut Node) {
    if let Node::Map(entries) = node {
        for (k, n, _) in entries.iter_mut() {
            if k != "data" {
                continue;
            }
            let path = match &*n {
                Node::Map(items) => {
                    let paths: Vec<&Vec<String>> = items
                        .iter()
                        .filter_map(|(_, n, _)| match n {
                            Node::Knob(Knob::Value { path, .. }) if path.len() == 3 => Some(path),
                            _ => None,
                        })
                        .collect();
                    (paths.len() == items.len()
                        && paths
                            .iter()
                            .all(|p| p[..2] == paths[0][..2] && p[0] == "configs"))
                    .then(|| paths.first().map(|p| p[..2].to_vec()))
                    .flatten()
                }
                _ => None,
            };
            if let Some(p) = path {
                *n = Node::Yaml(p);
            }
        }
    }
}

/// What rendering a template reads of its context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Read<'n> {
    Value(&'n [String]),
    /// A config's entries, for its name.
    Config(&'n str),
    Namespace,
    Release,
    Mesh,
    /// What replica regime a workload is in.
    Regime(&'n [String]),
    Env,
}

/// Adds what rendering `n` reads to `out`.
pub fn reads_of<'n>(n: &'n Node, out: &mut Vec<Read<'n>>) {
    match n {
        Node::Lit(_) => {}
        Node::Map(entries) => entries.iter().for_each(|(_, n, c)| {
            cond_reads(c, out);
            reads_of(n, out);
        }),
        Node::List(items) => items.iter().for_each(|(n, c)| {
            cond_reads(c, out);
            reads_of(n, out);
        }),
        Node::Knob(k) => knob_reads(k, out),
        Node::Text(pieces) => pieces.iter().for_each(|p| match p {
            Piece::Lit(_) => {}
            Piece::Expr(k) => knob_reads(k, out),
        }),
        Node::Yaml(path) => out.push(Read::Value(path)),
        Node::Choice(branches) => branches.iter().for_each(|(c, n)| {
            cond_reads(c, out);
            reads_of(n, out);
        }),
    }
}

/// Adds what deciding `c` reads to `out`.
pub fn cond_reads<'n>(c: &'n Cond, out: &mut Vec<Read<'n>>) {
    match c {
        Cond::True => {}
        Cond::Mesh(_) => out.push(Read::Mesh),
        Cond::Regime(owner, _) => out.push(Read::Regime(owner)),
        Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| cond_reads(c, out)),
        Cond::Env(_) => out.push(Read::Env),
        Cond::Not(c) => cond_reads(c, out),
    }
}

fn knob_reads<'n>(k: &'n Knob, out: &mut Vec<Read<'n>>) {
    match k {
        Knob::Value { path, .. } => out.push(Read::Value(path)),
        Knob::Namespace => out.push(Read::Namespace),
        Knob::Instance => out.push(Read::Release),
        Knob::ConfigName { config } => out.push(Read::Config(config)),
        Knob::Service | Knob::Chart | Knob::HelmOnly(_) | Knob::SecretChecksum(_) => {}
    }
}

// ---- evaluating --------------------------------------------------------------------

/// What a template is rendered with.
pub struct Ctx<'a> {
    pub values: &'a Value,
    pub namespace: &'a str,
    pub release: &'a str,
    /// Computes a config's ConfigMap name from its entries.
    pub config_name: &'a (dyn Fn(&str, &Value) -> String + Sync),
}

/// `m.get(k)`, by comparing keys when the map is small: an object's maps have a few
/// keys, and serde_json's order-keeping maps hash every key looked up with SipHash.
fn get<'v>(m: &'v serde_json::Map<String, Value>, k: &str) -> Option<&'v Value> {
    if m.len() <= 8 {
        m.iter().find_map(|(key, v)| (key == k).then_some(v))
    } else {
        m.get(k)
    }
}

/// `v.get(k)` with [`get`].
fn member<'v>(v: &'v Value, k: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => get(m, k),
        _ => None,
    }
}

/// `raw == v`, for what may be missing.
fn same_as(raw: Option<&Tree>, v: Option<&Value>) -> bool {
    match (raw, v) {
        (Some(t), Some(v)) => t.same_as(v),
        (None, None) => true,
        _ => false,
    }
}

impl Ctx<'_> {
    fn lookup(&self, path: &[String]) -> Option<&Value> {
        path.iter().try_fold(self.values, |v, k| member(v, k))
    }

    fn mesh(&self) -> &str {
        member(self.values, "mesh")
            .and_then(Value::as_str)
            .unwrap_or("none")
    }

    fn regime(&self, owner: &[String]) -> Regime {
        let values = self.lookup(owner);
        let at = |path: &[&str]| path.iter().try_fold(values?, |v, k| member(v, k));
        if at(&["autoscaling", "enabled"]).and_then(Value::as_bool) == Some(true) {
            return Regime::Range;
        }
        match at(&["replicaCount"]).and_then(Value::as_i64) {
            Some(n) if n >= 2 => Regime::Fixed,
            _ => Regime::Single,
        }
    }

    pub fn holds(&self, c: &Cond) -> bool {
        match c {
            Cond::True => true,
            Cond::Mesh(ms) => ms.iter().any(|m| mesh_name(*m) == self.mesh()),
            Cond::Regime(owner, rs) => rs.contains(&self.regime(owner)),
            Cond::And(cs) => cs.iter().all(|c| self.holds(c)),
            Cond::Or(cs) => cs.iter().any(|c| self.holds(c)),
            Cond::Env(es) => {
                let env = member(self.values, "environment").and_then(Value::as_str);
                es.iter().any(|e| Some(e.as_str()) == env)
            }
            Cond::Not(c) => !self.holds(c),
        }
    }

    fn knob(&self, k: &Knob) -> Option<Value> {
        Some(match k {
            Knob::Value { path, int } => {
                let v = self.lookup(path)?.clone();
                match (&v, int) {
                    (Value::Number(_), false) => Value::String(v.to_string()),
                    _ => v,
                }
            }
            Knob::Namespace => Value::String(self.namespace.to_string()),
            Knob::Instance => Value::String(self.release.to_string()),
            Knob::Service => Value::String("sorchac".into()),
            // Helm's own additions; the raw output has none of them.
            Knob::Chart | Knob::HelmOnly(_) | Knob::SecretChecksum(_) => return None,
            Knob::ConfigName { config } => {
                let data = self
                    .lookup(&["configs".to_string(), super::values::camel(config)])
                    .cloned()
                    .unwrap_or(Value::Object(Map::new()));
                Value::String((self.config_name)(config, &data))
            }
        })
    }

    /// Whether a template renders exactly `raw` (`None`: renders nothing), as
    /// `eval(n) == raw` would say, without building the rendered value.
    pub fn renders(&self, n: &Node, raw: Option<&Tree>) -> bool {
        match n {
            Node::Lit(v) => raw.is_some_and(|r| r.same(v)),
            Node::Map(entries) => {
                let held = entries.iter().filter(|(_, _, c)| self.holds(c));
                let Some(raw) = raw else {
                    // Nothing when every entry it has renders nothing.
                    let mut held = held;
                    return !entries.is_empty() && held.all(|(_, n, _)| self.renders(n, None));
                };
                let Tree::Map(m) = raw else {
                    return false;
                };
                let mut present = 0;
                for (k, n, _) in held {
                    // The entries nearly always come in the template's order.
                    let child = Tree::entry(m, k, present).and_then(|i| m.get(i));
                    if !self.renders(n, child.map(|(_, t)| t)) {
                        return false;
                    }
                    present += usize::from(child.is_some());
                }
                present == m.len() && (present > 0 || entries.is_empty())
            }
            Node::List(items) => {
                let Some(Tree::List(a)) = raw else {
                    return false;
                };
                let mut at = a.iter();
                for (n, _) in items.iter().filter(|(_, c)| self.holds(c)) {
                    if self.renders(n, None) {
                        continue;
                    }
                    if !at.next().is_some_and(|x| self.renders(n, Some(x))) {
                        return false;
                    }
                }
                at.next().is_none()
            }
            Node::Knob(k) => same_as(raw, self.knob(k).as_ref()),
            Node::Yaml(path) => same_as(raw, self.lookup(path)),
            Node::Choice(branches) => match branches.iter().find(|(c, _)| self.holds(c)) {
                Some((_, n)) => self.renders(n, raw),
                None => raw.is_none(),
            },
            Node::Text(_) => same_as(raw, self.eval(n).as_ref()),
        }
    }

    /// Whether each of `reads` is the same here as in `other` (what [`reads_of`] finds a
    /// template reads is all that [`Ctx::eval`] and [`Ctx::renders`] read of it). The
    /// contexts are a chart's, so they compute config names alike.
    pub fn agrees_on(&self, other: &Ctx, reads: &[Read]) -> bool {
        reads.iter().all(|r| match r {
            Read::Value(path) => self.lookup(path) == other.lookup(path),
            Read::Config(config) => {
                let path = ["configs".to_string(), super::values::camel(config)];
                self.lookup(&path) == other.lookup(&path)
            }
            Read::Namespace => self.namespace == other.namespace,
            Read::Release => self.release == other.release,
            Read::Mesh => self.mesh() == other.mesh(),
            Read::Regime(owner) => self.regime(owner) == other.regime(owner),
            Read::Env => member(self.values, "environment") == member(other.values, "environment"),
        })
    }

    /// What a template's rendering is known by: `apiVersion kind name`.
    pub fn key(&self, n: &Node) -> String {
        let text = |path: &[&str]| {
            self.eval_at(n, path)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        key_of(
            &text(&["apiVersion"]),
            &text(&["kind"]),
            &text(&["metadata", "name"]),
        )
    }

    /// One field of a template's rendering, rendering only what leads to it.
    fn eval_at(&self, n: &Node, path: &[&str]) -> Option<Value> {
        let Some((key, rest)) = path.split_first() else {
            return self.eval(n);
        };
        match n {
            Node::Choice(branches) => {
                let (_, n) = branches.iter().find(|(c, _)| self.holds(c))?;
                self.eval_at(n, path)
            }
            // The last entry for the key that holds and renders something.
            Node::Map(entries) => {
                let (_, n, _) = entries
                    .iter()
                    .rev()
                    .find(|(k, n, c)| k == key && self.holds(c) && !self.renders(n, None))?;
                self.eval_at(n, rest)
            }
            _ => {
                let v = self.eval(n)?;
                path.iter().try_fold(&v, |v, k| member(v, k)).cloned()
            }
        }
    }

    pub fn eval(&self, n: &Node) -> Option<Value> {
        match n {
            Node::Lit(v) => Some(v.to_value()),
            Node::Map(entries) => {
                let m: Map<String, Value> = entries
                    .iter()
                    .filter(|(_, _, c)| self.holds(c))
                    .filter_map(|(k, n, _)| Some((k.clone(), self.eval(n)?)))
                    .collect();
                // A map made only of Helm's own additions is not there at all.
                (!m.is_empty() || entries.is_empty()).then_some(Value::Object(m))
            }
            Node::List(items) => Some(Value::Array(
                items
                    .iter()
                    .filter(|(_, c)| self.holds(c))
                    .filter_map(|(n, _)| self.eval(n))
                    .collect(),
            )),
            Node::Knob(k) => self.knob(k),
            Node::Text(pieces) => {
                let mut s = String::new();
                for p in pieces {
                    match p {
                        Piece::Lit(l) => s.push_str(l),
                        Piece::Expr(k) => match self.knob(k)? {
                            Value::String(t) => s.push_str(&t),
                            other => s.push_str(&other.to_string()),
                        },
                    }
                }
                Some(Value::String(s))
            }
            Node::Yaml(path) => self.lookup(path).cloned(),
            Node::Choice(branches) => branches
                .iter()
                .find(|(c, _)| self.holds(c))
                .and_then(|(_, n)| self.eval(n)),
        }
    }
}

/// An object's key among a chart's: `apiVersion kind name`.
pub fn key_of(api: &str, kind: &str, name: &str) -> String {
    let mut k = String::with_capacity(api.len() + kind.len() + name.len() + 2);
    for (i, part) in [api, kind, name].into_iter().enumerate() {
        if i > 0 {
            k.push(' ');
        }
        k.push_str(part);
    }
    k
}

// ---- printing ---------------------------------------------------------------------

/// Prints templates as Go template text.
pub struct Printer<'a> {
    /// The chart name, for its helpers.
    pub chart: &'a str,
    pub out: String,
}

fn go_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn values_ref(path: &[String]) -> String {
    // `.Values.a.b` when every key is a Go identifier of ASCII letters, digits and `_`
    // (a letter first), as nearly all are; `index` otherwise.
    let identifier = |p: &str| {
        p.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
            && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
    };
    if !path.iter().all(|p| identifier(p)) {
        return format!(
            "(index .Values {})",
            path.iter()
                .map(|p| go_string(p))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let mut s = String::with_capacity(7 + path.iter().map(|p| p.len() + 1).sum::<usize>());
    s.push_str(".Values");
    for p in path {
        s.push('.');
        s.push_str(p);
    }
    s
}

impl Printer<'_> {
    fn knob_expr(&self, k: &Knob) -> String {
        match k {
            Knob::Value { path, .. } => values_ref(path),
            Knob::Namespace => ".Release.Namespace".into(),
            Knob::Instance => ".Release.Name".into(),
            Knob::Service => ".Release.Service".into(),
            Knob::Chart => format!("(include \"{}.chart\" .)", self.chart),
            Knob::ConfigName { config } => format!(
                "(include \"{}.configName\" (dict \"name\" {} \"data\" {}))",
                self.chart,
                go_string(config),
                values_ref(&["configs".to_string(), super::values::camel(config)])
            ),
            Knob::HelmOnly(text) => go_string(text),
            Knob::SecretChecksum(secret) => format!(
                "(toJson {} | sha256sum)",
                values_ref(&["secrets".to_string(), super::values::camel(secret)])
            ),
        }
    }

    fn scalar_knob(&self, k: &Knob) -> String {
        let expr = self.knob_expr(k);
        let mut action = String::with_capacity(expr.len() + 14);
        action.push_str("{{ ");
        action.push_str(&expr);
        action.push_str(match k {
            Knob::Value { int: true, .. } => " }}",
            _ => " | quote }}",
        });
        action
    }

    fn text(&self, pieces: &[Piece]) -> String {
        let mut fmt = String::new();
        let mut args = Vec::new();
        for p in pieces {
            match p {
                Piece::Lit(l) => fmt.push_str(&l.replace('%', "%%")),
                Piece::Expr(k) => {
                    fmt.push_str("%v");
                    args.push(self.knob_expr(k));
                }
            }
        }
        format!(
            "{{{{ printf {} {} | quote }}}}",
            go_string(&fmt),
            args.join(" ")
        )
    }

    pub fn cond(&self, c: &Cond) -> String {
        match c {
            Cond::True => "true".into(),
            Cond::Mesh(ms) if ms.len() == 1 => {
                format!("eq .Values.mesh {}", go_string(mesh_name(ms[0])))
            }
            Cond::Mesh(ms) => format!(
                "has .Values.mesh (list {})",
                ms.iter()
                    .map(|m| go_string(mesh_name(*m)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Cond::Regime(owner, rs) => {
                let v = values_ref(owner);
                let auto = format!("{v}.autoscaling.enabled");
                let one = |r: &Regime| match r {
                    Regime::Range => auto.clone(),
                    Regime::Single => {
                        format!("and (not {auto}) (eq (int {v}.replicaCount) 1)")
                    }
                    Regime::Fixed => {
                        format!("and (not {auto}) (ge (int {v}.replicaCount) 2)")
                    }
                };
                match rs.as_slice() {
                    [r] => one(r),
                    [Regime::Single, Regime::Fixed] => format!("not {auto}"),
                    [Regime::Fixed, Regime::Range] => {
                        format!("or {auto} (ge (int {v}.replicaCount) 2)")
                    }
                    _ => format!(
                        "or {}",
                        rs.iter()
                            .map(|r| format!("({})", one(r)))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                }
            }
            Cond::And(cs) => format!(
                "and {}",
                cs.iter()
                    .map(|c| format!("({})", self.cond(c)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Cond::Or(cs) => format!(
                "or {}",
                cs.iter()
                    .map(|c| format!("({})", self.cond(c)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Cond::Env(es) if es.len() == 1 => {
                format!("eq .Values.environment {}", go_string(&es[0]))
            }
            Cond::Env(es) => format!(
                "has .Values.environment (list {})",
                es.iter()
                    .map(|e| go_string(e))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Cond::Not(c) => format!("not ({})", self.cond(c)),
        }
    }

    fn line(&mut self, ind: usize, text: &str) {
        self.line_of(ind, &[text]);
    }

    /// A line made of parts, written straight into the output.
    fn line_of(&mut self, ind: usize, parts: &[&str]) {
        self.start_line(ind, parts);
        self.out.push('\n');
    }

    fn open(&mut self, ind: usize, c: &Cond, first: bool) {
        let kw = if first { "if" } else { "else if" };
        let text = format!("{{{{- {kw} {} }}}}", self.cond(c));
        self.line(ind, &text);
    }

    fn close(&mut self, ind: usize) {
        self.line(ind, "{{- end }}");
    }

    /// Appends a literal scalar as YAML text (one line), safe from Go template actions.
    fn scalar_into(out: &mut String, v: &Tree) {
        match v {
            Tree::Str(s) => {
                // Most are names, which YAML writes as they are (and hold no braces).
                if fastyaml::obviously_plain(s) {
                    out.push_str(s);
                } else if s.contains("{{") || s.contains("}}") {
                    out.push_str("{{ ");
                    out.push_str(&go_string(s));
                    out.push_str(" | quote }}");
                } else if !fastyaml::append_inline_value(out, s) {
                    out.push_str(&go_string(s));
                }
            }
            Tree::Map(m) if m.is_empty() => out.push_str("{}"),
            Tree::List(a) if a.is_empty() => out.push_str("[]"),
            other => out.push_str(&other.json_text()),
        }
    }

    #[cfg(test)]
    fn scalar(v: &Tree) -> String {
        let mut out = String::new();
        Self::scalar_into(&mut out, v);
        out
    }

    fn key(k: &str) -> Cow<'_, str> {
        let b = k.as_bytes();
        let plain = b.first().is_some_and(u8::is_ascii_alphabetic) && fastyaml::name_bytes(b);
        if plain {
            Cow::Borrowed(k)
        } else {
            Cow::Owned(go_string(k))
        }
    }

    /// The start of a line: indentation, then `prefix` (`key: ` or `- `).
    fn start_line(&mut self, ind: usize, prefix: &[&str]) {
        fastyaml::indent(&mut self.out, ind);
        for p in prefix {
            self.out.push_str(p);
        }
    }

    /// A line of `prefix` and a literal scalar.
    fn scalar_line(&mut self, ind: usize, prefix: &[&str], v: &Tree) {
        self.start_line(ind, prefix);
        Self::scalar_into(&mut self.out, v);
        self.out.push('\n');
    }

    /// A knob's or a text's template action, which is written on one line.
    fn action(&self, n: &Node) -> String {
        match n {
            Node::Knob(k) => self.scalar_knob(k),
            Node::Text(p) => self.text(p),
            _ => String::new(),
        }
    }

    /// Entries of a map at `ind`.
    pub fn map(&mut self, entries: &[(String, Node, Cond)], ind: usize) {
        for (k, n, c) in entries {
            if *c != Cond::True {
                self.open(ind, c, true);
            }
            self.entry(k, n, ind);
            if *c != Cond::True {
                self.close(ind);
            }
        }
    }

    /// A literal map's entries at `ind`, printed from the value itself (as a map of
    /// literal nodes would be, without copying the value into one).
    pub fn lit_map(&mut self, m: &[(Cow<'static, str>, Tree)], ind: usize) {
        for (k, v) in m {
            self.lit_entry(&Self::key(k), v, ind);
        }
    }

    /// A literal value under its (printed) key at `ind`.
    fn lit_entry(&mut self, key: &str, v: &Tree, ind: usize) {
        match v {
            Tree::Map(m) if !m.is_empty() => {
                self.line_of(ind, &[key, ":"]);
                self.lit_map(m, ind + 2);
            }
            Tree::List(a) if !a.is_empty() => {
                self.line_of(ind, &[key, ":"]);
                self.lit_list(a, ind);
            }
            _ => self.scalar_line(ind, &[key, ": "], v),
        }
    }

    /// A literal list's items, its key at `ind`.
    fn lit_list(&mut self, items: &[Tree], ind: usize) {
        for v in items {
            self.lit_item(v, ind);
        }
    }

    /// A literal value as a list item, its list's key at `ind`.
    fn lit_item(&mut self, v: &Tree, ind: usize) {
        match v {
            Tree::Map(m) if !m.is_empty() => self.item_map_with(ind, |p, i| p.lit_map(m, i)),
            Tree::List(a) if !a.is_empty() => {
                self.line(ind, "-");
                self.lit_list(a, ind + 2);
            }
            _ => self.scalar_line(ind, &["- "], v),
        }
    }

    fn entry(&mut self, k: &str, n: &Node, ind: usize) {
        let key = Self::key(k);
        match n {
            Node::Lit(v) => self.lit_entry(&key, v, ind),
            Node::Knob(_) | Node::Text(_) => {
                let action = self.action(n);
                self.line_of(ind, &[&key, ": ", &action]);
            }
            Node::Map(entries) => {
                self.line_of(ind, &[&key, ":"]);
                self.map(entries, ind + 2);
            }
            Node::List(items) => {
                self.line_of(ind, &[&key, ":"]);
                self.list(items, ind);
            }
            Node::Yaml(path) => {
                let text = format!(
                    "{key}: {{{{- toYaml {} | nindent {} }}}}",
                    values_ref(path),
                    ind + 2
                );
                self.line(ind, &text);
            }
            Node::Choice(branches) => {
                for (i, (c, b)) in branches.iter().enumerate() {
                    self.open(ind, c, i == 0);
                    self.entry(k, b, ind);
                }
                self.close(ind);
            }
        }
    }

    /// Items of a list whose key is at `ind`.
    pub fn list(&mut self, items: &[(Node, Cond)], ind: usize) {
        for (n, c) in items {
            if *c != Cond::True {
                self.open(ind, c, true);
            }
            self.item(n, ind);
            if *c != Cond::True {
                self.close(ind);
            }
        }
    }

    fn item(&mut self, n: &Node, ind: usize) {
        match n {
            Node::Lit(v) => self.lit_item(v, ind),
            Node::Knob(_) | Node::Text(_) => {
                let action = self.action(n);
                self.line_of(ind, &["- ", &action]);
            }
            Node::Choice(branches) => {
                for (i, (c, b)) in branches.iter().enumerate() {
                    self.open(ind, c, i == 0);
                    self.item(b, ind);
                }
                self.close(ind);
            }
            Node::Map(entries) => self.item_map_with(ind, |p, i| p.map(entries, i)),
            Node::List(items) => {
                self.line(ind, "-");
                self.list(items, ind + 2);
            }
            Node::Yaml(path) => {
                let text = format!(
                    "- {{{{- toYaml {} | nindent {} }}}}",
                    values_ref(path),
                    ind + 2
                );
                self.line(ind, &text);
            }
        }
    }

    /// A map as a list item: its first line after the dash when it is plain.
    fn item_map_with(&mut self, ind: usize, body: impl FnOnce(&mut Self, usize)) {
        let start = self.out.len();
        body(self, ind + 2);
        // Printed in place: a plain first line's last two spaces of indentation become
        // the dash; otherwise the dash has a line of its own before the body.
        let printed = &self.out.as_bytes()[start..];
        let padded = printed.len() >= ind + 2 && printed[..ind + 2].iter().all(|b| *b == b' ');
        if padded && !printed[ind + 2..].starts_with(b"{{") {
            self.out.replace_range(start + ind..start + ind + 2, "- ");
        } else {
            self.out.insert_str(start, &format!("{:ind$}-\n", ""));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(v: Value) -> Tree {
        Tree::of(&v).unwrap()
    }

    fn lit(v: Value) -> Node {
        Node::Lit(tree(v))
    }

    fn owner() -> Vec<String> {
        vec!["services".into(), "api".into()]
    }

    /// `get` finds what serde_json's `get` finds, in small maps and large.
    #[test]
    fn get_agrees_with_serde_json() {
        let big: serde_json::Map<String, Value> =
            (0..20).map(|i| (format!("k{i}"), Value::from(i))).collect();
        let small: serde_json::Map<String, Value> =
            (0..3).map(|i| (format!("k{i}"), Value::from(i))).collect();
        for m in [&big, &small] {
            for k in ["k0", "k2", "k19", "k3", "", "k"] {
                assert_eq!(get(m, k), m.get(k), "{k}");
            }
        }
    }

    /// Only strings that may be markers are looked up: every marker of the examples'
    /// samples, and of a synthetic platform's, is one of them (configs' names, which
    /// hold no marker text, included).
    #[test]
    fn every_marker_is_a_string_that_is_looked_up() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
        let mut programs = Vec::new();
        for example in ["sorcha", "three-tier", "queue-worker"] {
            let path = format!("{root}/{example}/platform.sorcha");
            programs.push((
                path.clone(),
                crate::compile(&path, &crate::cli::fs::FsLoader),
            ));
        }
        let synth = crate::resolve::load::MemoryLoader::new()
            .with("main.sorcha", &crate::synth::platform(3));
        programs.push(("synthetic".into(), crate::compile("main.sorcha", &synth)));
        for (path, c) in programs {
            let c = c.unwrap();
            assert!(!c.has_errors(), "{path}");
            let sampler = super::super::sample::Sampler::new(&c.checked.base);
            let mk = &sampler.markers;
            assert!(mk.texts().count() > 10, "{path}");
            for text in mk.texts() {
                assert!(mk.may_be(text), "{path}: {text}");
            }
            for n in mk.number.keys() {
                assert!(mk.may_be(&n.to_string()), "{path}: {n}");
            }
        }
    }

    /// A value is substituted where its markers are, and moved whole where it holds
    /// none: before, at and after a marker in a map and in a list, nested, and each
    /// kind of marker.
    #[test]
    fn markers_become_knobs_and_the_rest_stays_literal() {
        let mut mk = Markers::default();
        let knob = |p: &str| Knob::Value {
            path: vec![p.into()],
            int: false,
        };
        let host = mk.text(knob("host"));
        let num = mk.number(knob("replicas"));
        // A config's name is a marker too, though it holds no marker text.
        let config = Knob::ConfigName {
            config: "app".into(),
        };
        mk.insert("app-5d8f7k2m9c".into(), config.clone());
        let v = json!({
            "a": {"x": 1, "y": ["p", "q"]},
            "b": [{"n": "plain"}, {"n": host}, 7, format!("https://{host}/x")],
            "c": num,
            "d": {"z": "lit", "config": "app-5d8f7k2m9c"},
            "app.kubernetes.io/managed-by": "sorchac",
        });
        let Node::Map(entries) = subst(tree(v), &mk, None) else {
            panic!("not a map");
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c", "d", "app.kubernetes.io/managed-by"]);
        assert_eq!(entries[0].1, lit(json!({"x": 1, "y": ["p", "q"]})));
        let Node::List(items) = &entries[1].1 else {
            panic!("{:?}", entries[1].1);
        };
        assert_eq!(items[0].0, lit(json!({"n": "plain"})));
        assert_eq!(
            items[1].0,
            Node::Map(vec![("n".into(), Node::Knob(knob("host")), Cond::True)])
        );
        assert_eq!(items[2].0, lit(json!(7)));
        assert_eq!(
            items[3].0,
            Node::Text(vec![
                Piece::Lit("https://".into()),
                Piece::Expr(knob("host")),
                Piece::Lit("/x".into()),
            ])
        );
        assert_eq!(entries[2].1, Node::Knob(knob("replicas")));
        assert_eq!(
            entries[3].1,
            Node::Map(vec![
                ("z".into(), lit(json!("lit")), Cond::True),
                ("config".into(), Node::Knob(config), Cond::True),
            ])
        );
        assert_eq!(entries[4].1, Node::Knob(Knob::Service));
        // Nothing marked: the value itself.
        let plain = json!({"a": [1, "two", {"b": null}], "c": "1700000007", "d": "app-5d8f7k2m9"});
        assert_eq!(subst(tree(plain.clone()), &mk, None), lit(plain));
    }

    #[test]
    fn values_are_read_by_field_where_every_key_is_an_identifier() {
        let path = |ps: &[&str]| ps.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(
            values_ref(&path(&["services", "api", "replicaCount"])),
            ".Values.services.api.replicaCount"
        );
        assert_eq!(values_ref(&path(&["a_1", "B"])), ".Values.a_1.B");
        assert_eq!(
            values_ref(&path(&["configs", "app-x"])),
            r#"(index .Values "configs" "app-x")"#
        );
        for odd in ["1b", "_b", "é", ""] {
            assert_eq!(
                values_ref(&path(&["a", odd])),
                format!("(index .Values \"a\" {})", go_string(odd)),
                "{odd:?}"
            );
        }
    }

    #[test]
    fn conditions_are_as_simple_as_the_samples_allow() {
        let linkerd: Samples = (0..3).map(|r| sample_bit(1, r)).fold(0, |a, b| a | b);
        assert_eq!(
            cond_for(linkerd, ALL, Some(&owner())),
            Some(Cond::Mesh(vec![Mesh::Linkerd]))
        );
        let range: Samples = (0..3).map(|m| sample_bit(m, 2)).fold(0, |a, b| a | b);
        assert_eq!(
            cond_for(range, ALL, Some(&owner())),
            Some(Cond::Regime(owner(), vec![Regime::Range]))
        );
        assert_eq!(cond_for(ALL, ALL, None), Some(Cond::True));
        // Varying with replicas needs a workload to ask.
        assert_eq!(cond_for(range, ALL, None), None);
    }

    #[test]
    fn samples_that_differ_become_choices_and_equal_ones_literals() {
        let mk = Markers::default();
        let a = json!({"spec": {"x": 1, "y": [1, 2]}});
        let b = json!({"spec": {"x": 2, "y": [1, 2]}});
        let none: Samples = (0..3).map(|r| sample_bit(0, r)).fold(0, |a, b| a | b);
        let rest = ALL & !none;
        let node = merge(
            vec![(none, tree(a)), (rest, tree(b))],
            &mk,
            Some(&owner()),
            None,
        )
        .unwrap();
        let Node::Map(entries) = node else {
            panic!("{node:?}")
        };
        let Node::Map(spec) = &entries[0].1 else {
            panic!()
        };
        assert!(matches!(&spec[0].1, Node::Choice(b) if b.len() == 2));
        assert_eq!(spec[1].1, lit(json!([1, 2])));
    }

    fn mesh_samples(mesh: usize) -> Samples {
        (0..3).map(|r| sample_bit(mesh, r)).fold(0, |a, b| a | b)
    }

    /// The rendering of a template in a mesh, with values that set nothing else.
    fn eval_in(node: &Node, mesh: Mesh) -> Option<Value> {
        let values = json!({ "mesh": mesh_name(mesh) });
        let config_name = |c: &str, _: &Value| c.to_string();
        let ctx = Ctx {
            values: &values,
            namespace: "ns",
            release: "rel",
            config_name: &config_name,
        };
        ctx.eval(node)
    }

    /// A list that some meshes make longer keeps what every mesh has once, and each
    /// mesh's own items under its condition, instead of a whole list per mesh; each
    /// mesh still renders its own list exactly.
    #[test]
    fn lists_that_differ_keep_what_they_share_once() {
        let mk = Markers::default();
        let lists = [
            json!([{"to": "a"}, {"to": "b"}]),
            json!([{"to": "a"}, {"to": "b"}, {"to": "linkerd"}]),
            json!([{"to": "a"}, {"to": "istio"}, {"to": "b"}]),
        ];
        let variants = (0..3)
            .map(|m| (mesh_samples(m), tree(lists[m].clone())))
            .collect();
        let node = merge(variants, &mk, Some(&owner()), None).unwrap();
        let Node::List(items) = &node else {
            panic!("{node:?}")
        };
        let conds: Vec<&Cond> = items.iter().map(|(_, c)| c).collect();
        assert_eq!(
            conds,
            [
                &Cond::True,
                &Cond::Mesh(vec![Mesh::Istio]),
                &Cond::True,
                &Cond::Mesh(vec![Mesh::Linkerd]),
            ]
        );
        for (m, list) in MESHES.iter().zip(&lists) {
            assert_eq!(eval_in(&node, *m).as_ref(), Some(list), "{m:?}");
        }
    }

    /// Lists with no item in common, or where one of them is empty, stay a choice
    /// between wholes: a list of conditional items alone would render as nothing where
    /// the sample has `[]`.
    #[test]
    fn lists_with_nothing_in_every_sample_stay_whole() {
        let mk = Markers::default();
        for (a, b) in [
            (json!([]), json!([{"to": "linkerd"}])),
            (json!([1]), json!([2, 3])),
        ] {
            let rest = ALL & !mesh_samples(0);
            let node = merge(
                vec![(mesh_samples(0), tree(a.clone())), (rest, tree(b.clone()))],
                &mk,
                Some(&owner()),
                None,
            )
            .unwrap();
            assert!(matches!(&node, Node::Choice(c) if c.len() == 2), "{node:?}");
            assert_eq!(eval_in(&node, Mesh::None), Some(a));
            assert_eq!(eval_in(&node, Mesh::Istio), Some(b));
        }
    }

    proptest::proptest! {
        /// Lined up, every list is its columns' items in order, every column's items
        /// are alike, and what two lists share is in one column as often as their
        /// longest common subsequence allows.
        #[test]
        fn every_list_is_its_columns_in_order(
            lists in proptest::collection::vec(proptest::collection::vec(0u8..4, 0..8), 1..5)
        ) {
            let trees: Vec<Vec<Tree>> = lists
                .iter()
                .map(|l| l.iter().map(|i| Tree::Int(i64::from(*i))).collect())
                .collect();
            let slices: Vec<&[Tree]> = trees.iter().map(Vec::as_slice).collect();
            let columns = align(&slices).unwrap();
            for (v, list) in lists.iter().enumerate() {
                let mut at = Vec::new();
                for column in &columns {
                    let mine: Vec<usize> =
                        column.iter().filter(|(c, _)| *c == v).map(|(_, i)| *i).collect();
                    proptest::prop_assert!(mine.len() <= 1);
                    at.extend(mine);
                }
                proptest::prop_assert_eq!(at, (0..list.len()).collect::<Vec<_>>());
            }
            for column in &columns {
                let items: Vec<u8> = column.iter().map(|(v, i)| lists[*v][*i]).collect();
                proptest::prop_assert!(items.windows(2).all(|w| w[0] == w[1]), "{:?}", column);
            }
            if let [a, b] = lists.as_slice() {
                let shared = columns.iter().filter(|c| c.len() == 2).count();
                proptest::prop_assert_eq!(shared, lcs(a, b));
            }
        }
    }

    /// The length of the longest common subsequence, by recursion (short lists only).
    fn lcs(a: &[u8], b: &[u8]) -> usize {
        match (a.split_first(), b.split_first()) {
            (Some((x, ra)), Some((y, rb))) if x == y => 1 + lcs(ra, rb),
            (Some((_, ra)), Some((_, rb))) => lcs(ra, b).max(lcs(a, rb)),
            _ => 0,
        }
    }

    /// `renders` answers exactly what comparing `eval`'s rendering would, for every
    /// kind of node, against the rendering itself, near misses and nothing.
    #[test]
    fn rendering_is_compared_as_eval_would() {
        let values = json!({
            "mesh": "linkerd",
            "environment": "prod",
            "port": 8080,
            "name": "api",
            "configs": {"app": {"a": "1"}},
            "services": {"api": {"replicaCount": 3}},
        });
        let config_name = |c: &str, _: &Value| format!("{c}-hash");
        let ctx = Ctx {
            values: &values,
            namespace: "ns",
            release: "rel",
            config_name: &config_name,
        };
        let knob = |p: &[&str], int| {
            Node::Knob(Knob::Value {
                path: p.iter().map(|s| s.to_string()).collect(),
                int,
            })
        };
        let no = Cond::Mesh(vec![Mesh::Istio]);
        let helm_only = Node::Knob(Knob::Chart);
        let entry = |k: &str, n: Node, c: Cond| (k.to_string(), n, c);
        let nodes = vec![
            lit(json!({"a": [1, 2]})),
            knob(&["port"], true),
            knob(&["port"], false),
            knob(&["missing"], true),
            Node::Text(vec![Piece::Lit("x-".into()), Piece::Expr(Knob::Instance)]),
            Node::Yaml(vec!["configs".into(), "app".into()]),
            Node::Yaml(vec!["nothing".into()]),
            Node::Knob(Knob::ConfigName {
                config: "app".into(),
            }),
            helm_only.clone(),
            Node::Map(vec![]),
            Node::Map(vec![entry("chart", helm_only.clone(), Cond::True)]),
            Node::Map(vec![
                entry("chart", helm_only.clone(), Cond::True),
                entry("port", knob(&["port"], true), Cond::True),
                entry("hidden", lit(json!(1)), no.clone()),
            ]),
            Node::List(vec![
                (lit(json!(1)), Cond::True),
                (helm_only.clone(), Cond::True),
                (lit(json!(2)), no.clone()),
                (knob(&["name"], false), Cond::True),
            ]),
            Node::Choice(vec![
                (no.clone(), lit(json!("istio"))),
                (
                    Cond::Regime(owner(), vec![Regime::Fixed]),
                    lit(json!("fixed")),
                ),
            ]),
            Node::Choice(vec![(no.clone(), lit(json!("istio")))]),
        ];
        for n in &nodes {
            let rendered = ctx.eval(n);
            let mut candidates = vec![None, Some(json!(null)), Some(json!({})), Some(json!([]))];
            candidates.push(rendered.clone());
            match &rendered {
                Some(Value::Object(m)) => {
                    let mut more = m.clone();
                    more.insert("extra".into(), json!(0));
                    candidates.push(Some(Value::Object(more)));
                    for k in m.keys() {
                        let mut less = m.clone();
                        less.remove(k);
                        candidates.push(Some(Value::Object(less)));
                    }
                }
                Some(Value::Array(a)) => {
                    candidates.push(Some(Value::Array(a[1..].to_vec())));
                    let mut more = a.clone();
                    more.push(json!(0));
                    candidates.push(Some(Value::Array(more)));
                }
                Some(Value::String(t)) => candidates.push(Some(json!(format!("{t}!")))),
                _ => {}
            }
            candidates.push(Some(json!(8080)));
            candidates.push(Some(json!("8080")));
            for c in &candidates {
                let tree = c.as_ref().map(|v| Tree::of(v).unwrap());
                assert_eq!(
                    ctx.renders(n, tree.as_ref()),
                    rendered.as_ref() == c.as_ref(),
                    "{n:?} against {c:?} (renders {rendered:?})"
                );
            }
        }
        let object = Node::Choice(vec![(
            Cond::True,
            Node::Map(vec![
                entry("apiVersion", lit(json!("v1")), Cond::True),
                entry("kind", lit(json!("ConfigMap")), Cond::True),
                entry(
                    "metadata",
                    Node::Map(vec![
                        entry("name", lit(json!("old")), Cond::True),
                        entry(
                            "name",
                            Node::Knob(Knob::ConfigName {
                                config: "app".into(),
                            }),
                            Cond::True,
                        ),
                        entry("name", lit(json!("istio")), no),
                    ]),
                    Cond::True,
                ),
            ]),
        )]);
        assert_eq!(ctx.key(&object), "v1 ConfigMap app-hash");
    }

    /// Two contexts that agree on what a template reads render it alike, and a change
    /// to what no template reads leaves every template agreeing.
    #[test]
    fn contexts_that_agree_on_what_a_template_reads_render_it_alike() {
        let base = json!({
            "mesh": "linkerd",
            "environment": "prod",
            "port": 8080,
            "name": "api",
            "other": 1,
            "configs": {"app": {"a": "1"}},
            "services": {"api": {"replicaCount": 3, "autoscaling": {"enabled": false}}},
        });
        let changed = |path: &[&str], v: Value| {
            let mut values = base.clone();
            let mut at = &mut values;
            for k in path {
                at = &mut at[*k];
            }
            *at = v;
            values
        };
        let variants = [
            (changed(&["other"], json!(2)), "ns", "rel", true),
            (changed(&["mesh"], json!("istio")), "ns", "rel", false),
            (changed(&["port"], json!(9090)), "ns", "rel", false),
            (changed(&["name"], json!("web")), "ns", "rel", false),
            (
                changed(&["configs", "app", "a"], json!("2")),
                "ns",
                "rel",
                false,
            ),
            (changed(&["environment"], json!("dev")), "ns", "rel", false),
            (
                changed(&["services", "api", "replicaCount"], json!(1)),
                "ns",
                "rel",
                false,
            ),
            (
                changed(&["services", "api", "replicaCount"], json!(5)),
                "ns",
                "rel",
                true,
            ),
            (base.clone(), "other-ns", "rel", false),
            (base.clone(), "ns", "other-rel", false),
        ];
        let config_name = |c: &str, data: &Value| format!("{c}-{data}");
        let ctx_of = |values, namespace, release| Ctx {
            values,
            namespace,
            release,
            config_name: &config_name,
        };
        let knob = |p: &[&str]| {
            Node::Knob(Knob::Value {
                path: p.iter().map(|s| s.to_string()).collect(),
                int: true,
            })
        };
        let nodes = [
            lit(json!({"a": [1, 2]})),
            knob(&["port"]),
            Node::Text(vec![Piece::Lit("x-".into()), Piece::Expr(Knob::Instance)]),
            Node::Knob(Knob::Namespace),
            Node::Yaml(vec!["configs".into(), "app".into()]),
            Node::Knob(Knob::ConfigName {
                config: "app".into(),
            }),
            Node::Map(vec![
                ("name".into(), knob(&["name"]), Cond::True),
                ("x".into(), lit(json!(1)), Cond::Mesh(vec![Mesh::Istio])),
            ]),
            Node::List(vec![(lit(json!(1)), Cond::Env(vec!["prod".into()]))]),
            Node::Choice(vec![
                (
                    Cond::Regime(owner(), vec![Regime::Fixed]),
                    lit(json!("fixed")),
                ),
                (Cond::True, lit(json!("one"))),
            ]),
        ];
        // Whether `n` renders the same in both contexts, by what it reads.
        let agrees = |here: &Ctx, there: &Ctx, n: &Node| {
            let mut reads = Vec::new();
            reads_of(n, &mut reads);
            here.agrees_on(there, &reads)
        };
        let here = ctx_of(&base, "ns", "rel");
        for (values, namespace, release, all_agree) in &variants {
            let there = ctx_of(values, namespace, release);
            let mut any_disagrees = false;
            for n in &nodes {
                if agrees(&here, &there, n) {
                    assert_eq!(here.eval(n), there.eval(n), "{n:?} with {values}");
                } else {
                    any_disagrees = true;
                }
            }
            assert_eq!(!any_disagrees, *all_agree, "{values} {namespace} {release}");
        }
    }

    /// A literal string in a template is written as the YAML writer writes it as a
    /// map's value, when that takes one line; as a Go string otherwise.
    #[test]
    fn scalars_are_written_as_yaml_writes_a_value() {
        let by_writer = |s: &str| match crate::emit::yaml::to_yaml(&json!({ "k": s })) {
            Ok(y) if y.starts_with("k: ") && y.matches('\n').count() == 1 => {
                y["k: ".len()..].trim_end().to_string()
            }
            _ => go_string(s),
        };
        let texts = [
            "",
            "plain",
            "with space",
            "a: b",
            "a:b",
            "- x",
            "-x",
            "8080",
            "08",
            "1.5",
            ".5",
            "1e3",
            "+1",
            "-1",
            "0x1F",
            "0o17",
            "true",
            "True",
            "yes",
            "on",
            "null",
            "~",
            "2024-01-01",
            "#x",
            "x #y",
            "x# y",
            "two\nlines",
            "line\n",
            "tab\there",
            "quote'd",
            "dq\"",
            "\u{7f}",
            "é",
            "trailing ",
            " leading",
            "@at",
            "`tick",
            "a,b",
            "[x]",
            "{x}",
            "%x",
            "!x",
            "&x",
            "*x",
            "|x",
            ">x",
            "?x",
            "? x",
            "\u{FEFF}bom",
            "cr\r",
            "back\\slash",
            "http://host:80/p?q=1",
            "/health",
            "x=1;y=2",
            "'",
            "\"",
            ":",
            "-",
            "---",
            "...",
        ];
        for t in texts {
            assert_eq!(Printer::scalar(&Tree::Str(t.into())), by_writer(t), "{t:?}");
        }
    }

    #[test]
    fn literal_text_never_becomes_a_template_action() {
        assert_eq!(Printer::scalar(&tree(json!("plain"))), "plain");
        assert_eq!(
            Printer::scalar(&tree(json!("a {{ b }}"))),
            "{{ \"a {{ b }}\" | quote }}"
        );
        assert_eq!(
            Printer::scalar(&tree(json!("two\nlines"))),
            "\"two\\nlines\""
        );
        assert_eq!(Printer::scalar(&tree(json!("8080"))), "'8080'");
    }
}
