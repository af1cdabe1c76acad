//! The kustomize target: `kustomize/base/`, the platform without any environment's
//! overrides, and `kustomize/overlays/<env>/` for every environment, holding only what
//! that environment changes. `kubectl kustomize overlays/<env>` builds exactly the raw
//! output of the environment (`tests/kustomize.rs` checks it with kubectl).
//!
//! The base is the raw output of the program without overrides, minus what its
//! kustomization puts back with Kustomize's own features: the namespace (`namespace`),
//! the labels every object carries (`labels`, templates included), image tags
//! (`images`) and configs (`configMapGenerator`, so the content-hash name suffixes and
//! the rewriting of references come from Kustomize itself).
//!
//! An overlay is worked out by applying the overlay's transformers (`namespace`,
//! `labels`, `images`, `replicas`, generators) to the base as Kustomize will, and
//! comparing the result with the environment's raw output object by object: what is left
//! becomes one JSON 6902 patch per object, with one operation per changed field. Objects
//! the environment adds are overlay resources; objects it drops are deleted with a
//! strategic-merge `$patch: delete`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::{Map, Value};

use super::{EmitError, HEADER, OutFile, yaml};
use crate::check::Model;
use crate::check::model::{Config, SecretSource};
use crate::ir::labels::{self as l, Labels};
use crate::ir::{Object, Objects};

/// One lowered program: its model and its objects.
#[derive(Clone, Copy)]
pub struct Built<'a> {
    pub model: &'a Model,
    pub objects: &'a Objects,
}

/// The kustomize tree.
pub struct Tree {
    pub files: Vec<OutFile>,
    /// Files that belong to the operator, not to the build (secret env files): a new
    /// build carries them over from the tree it replaces.
    pub keep: Vec<String>,
}

/// Where the tree goes, under the output directory.
pub const ROOT: &str = "kustomize";

/// The tree for a program: its base model and every environment's.
pub fn files(base: Built, envs: &[Built]) -> Result<Tree, EmitError> {
    let b = Base::new(base)?;
    let mut files = b.files()?;
    let mut keep = Vec::new();
    for env in envs {
        let o = Overlay::new(&b, *env)?;
        files.extend(o.files()?);
        keep.extend(o.secret_env_files());
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    keep.sort();
    Ok(Tree { files, keep })
}

// ---- objects as values ----------------------------------------------------------

/// What Kustomize identifies an object by (namespaces aside).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Id {
    api_version: String,
    kind: String,
    name: String,
}

impl Id {
    fn of(v: &Value) -> Id {
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        Id {
            api_version: s("/apiVersion"),
            kind: s("/kind"),
            name: s("/metadata/name"),
        }
    }
}

/// One object of the raw output, as a value, with the file it belongs in.
#[derive(Clone)]
struct Obj {
    file: String,
    v: Value,
}

fn values(objects: &Objects) -> Result<Vec<Obj>, EmitError> {
    let mut out = Vec::with_capacity(objects.len());
    for g in &objects.groups {
        for o in &g.objects {
            out.push(Obj {
                file: g.file.clone(),
                v: value(o)?,
            });
        }
    }
    Ok(out)
}

fn value(o: &Object) -> Result<Value, EmitError> {
    serde_json::to_value(o).map_err(|e| EmitError::Yaml {
        object: format!("{} {}", o.type_meta().1, o.name()),
        reason: e.to_string(),
    })
}

fn is_config_map(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("ConfigMap")
}

fn is_namespace(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("Namespace")
}

/// The label maps Kustomize's `labels` (with `includeTemplates`) writes to: the object's
/// own and those of the templates of what it creates.
const TEMPLATE_LABELS: &[(&str, &[&str])] = &[
    ("Deployment", &["spec", "template", "metadata"]),
    ("StatefulSet", &["spec", "template", "metadata"]),
    ("DaemonSet", &["spec", "template", "metadata"]),
    ("ReplicaSet", &["spec", "template", "metadata"]),
    ("Job", &["spec", "template", "metadata"]),
    ("CronJob", &["spec", "jobTemplate", "metadata"]),
    (
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "metadata"],
    ),
];

/// Calls `f` on every label map of `v` that Kustomize's `labels` transformer writes,
/// creating the maps as Kustomize does.
fn each_label_map(v: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(labels) = map_at(v, &["metadata"]).and_then(|m| entry_map(m, "labels")) {
        f(labels);
    }
    for (k, path) in TEMPLATE_LABELS {
        if *k == kind
            && let Some(labels) = map_at(v, path).and_then(|m| entry_map(m, "labels"))
        {
            f(labels);
        }
    }
    if kind == "StatefulSet"
        && let Some(Value::Array(claims)) = v.pointer_mut("/spec/volumeClaimTemplates")
    {
        for c in claims {
            if let Some(labels) = map_at(c, &["metadata"]).and_then(|m| entry_map(m, "labels")) {
                f(labels);
            }
        }
    }
}

/// The map at `path`, if every step is a map (the last one is created when missing).
fn map_at<'v>(v: &'v mut Value, path: &[&str]) -> Option<&'v mut Map<String, Value>> {
    let mut cur = v;
    for (i, step) in path.iter().enumerate() {
        let m = cur.as_object_mut()?;
        if i + 1 == path.len() && !m.contains_key(*step) {
            m.insert((*step).to_string(), Value::Object(Map::new()));
        }
        cur = m.get_mut(*step)?;
    }
    cur.as_object_mut()
}

fn entry_map<'m>(m: &'m mut Map<String, Value>, key: &str) -> Option<&'m mut Map<String, Value>> {
    m.entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// Removes `labels` maps left empty, and `metadata` maps of templates left empty.
fn prune_empty_labels(v: &mut Value) {
    fn prune(m: &mut Map<String, Value>) {
        if m.get("labels")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            m.remove("labels");
        }
    }
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        prune(m);
    }
    for (_, path) in TEMPLATE_LABELS {
        let (last, parent) = match path.split_last() {
            Some(x) => x,
            None => continue,
        };
        let mut cur = Some(&mut *v);
        for step in parent {
            cur = cur.and_then(|c| c.get_mut(*step));
        }
        if let Some(Value::Object(p)) = cur {
            let empty = match p.get_mut(*last) {
                Some(Value::Object(meta)) => {
                    prune(meta);
                    meta.is_empty()
                }
                _ => false,
            };
            if empty {
                p.remove(*last);
            }
        }
    }
    if let Some(Value::Array(claims)) = v.pointer_mut("/spec/volumeClaimTemplates") {
        for c in claims {
            if let Some(m) = c.get_mut("metadata").and_then(Value::as_object_mut) {
                prune(m);
            }
        }
    }
}

/// Sets `metadata.namespace` (namespaced objects) and the name of the Namespace, as
/// Kustomize's `namespace` does.
fn set_namespace(v: &mut Value, ns: &str) {
    let namespace = is_namespace(v);
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        if namespace {
            meta.insert("name".into(), Value::String(ns.into()));
        } else {
            meta.insert("namespace".into(), Value::String(ns.into()));
        }
    }
}

/// Every container image of an object, mutably.
fn each_image(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if (k == "containers" || k == "initContainers")
                    && let Value::Array(cs) = child
                {
                    for c in cs {
                        if let Some(Value::String(image)) = c.get_mut("image") {
                            f(image);
                        }
                    }
                } else {
                    each_image(child, f);
                }
            }
        }
        Value::Array(items) => {
            for i in items {
                each_image(i, f);
            }
        }
        _ => {}
    }
}

/// An image reference split into name and tag; `None` for references with a digest or
/// without a tag, which Kustomize's `images` cannot write back exactly.
fn split_image(image: &str) -> Option<(&str, &str)> {
    if image.contains('@') {
        return None;
    }
    let (name, tag) = image.rsplit_once(':')?;
    (!tag.contains('/') && !tag.is_empty()).then_some((name, tag))
}

/// Renames the references to ConfigMaps (volumes, projected sources, `configMapKeyRef`,
/// `configMapRef`) that `names` maps.
fn rename_config_refs(v: &mut Value, names: &HashMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if matches!(k.as_str(), "configMap" | "configMapKeyRef" | "configMapRef")
                    && let Some(Value::String(name)) = child.get_mut("name")
                    && let Some(new) = names.get(name.as_str())
                {
                    *name = new.clone();
                }
                rename_config_refs(child, names);
            }
        }
        Value::Array(items) => {
            for i in items {
                rename_config_refs(i, names);
            }
        }
        _ => {}
    }
}

// ---- the kustomization file -------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<LabelSet>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replicas: Vec<Replicas>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    config_map_generator: Vec<Generator>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secret_generator: Vec<Generator>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patches: Vec<Patch>,
}

impl Kustomization {
    fn new(resources: Vec<String>) -> Kustomization {
        Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            namespace: None,
            resources,
            labels: Vec::new(),
            images: Vec::new(),
            replicas: Vec::new(),
            config_map_generator: Vec::new(),
            secret_generator: Vec::new(),
            patches: Vec::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LabelSet {
    pairs: Labels,
    include_templates: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Image {
    name: String,
    new_tag: String,
}

#[derive(Serialize)]
struct Replicas {
    name: String,
    count: i64,
}

#[derive(Serialize)]
struct Generator {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    behavior: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    literals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    envs: Vec<String>,
    options: GeneratorOptions,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeneratorOptions {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    disable_name_suffix_hash: bool,
    labels: Labels,
}

#[derive(Serialize)]
struct Patch {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<Target>,
}

#[derive(Serialize)]
struct Target {
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    version: String,
    kind: String,
    name: String,
}

/// One JSON 6902 operation.
#[derive(Serialize)]
struct Op {
    op: &'static str,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
}

fn yaml_of<T: Serialize>(what: &str, value: &T) -> Result<String, EmitError> {
    yaml::to_yaml(value).map_err(|reason| EmitError::Yaml {
        object: what.to_string(),
        reason,
    })
}

fn with_header(comment: &[String], body: &str) -> Vec<u8> {
    let mut out = String::with_capacity(body.len() + 256);
    out.push_str(HEADER);
    out.push('\n');
    for line in comment {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(body);
    out.into_bytes()
}

/// A file of objects, `---`-separated.
fn objects_file(path: String, objects: &[&Value]) -> Result<OutFile, EmitError> {
    let mut body = String::new();
    for (i, v) in objects.iter().enumerate() {
        if i > 0 {
            body.push_str("---\n");
        }
        body.push_str(&yaml_of(&path, v)?);
    }
    Ok(OutFile {
        bytes: with_header(&[], &body),
        path,
    })
}

// ---- configs ----------------------------------------------------------------------

/// A config as a `configMapGenerator`: one-line values as literals, the rest (and what
/// was read from a file) as files under `configs/NAME/`, beside the kustomization.
fn generator(
    c: &Config,
    labels: Labels,
    behavior: Option<&'static str>,
    dir: &str,
    files: &mut Vec<OutFile>,
) -> Generator {
    let mut g = Generator {
        name: c.name.clone(),
        behavior,
        literals: Vec::new(),
        files: Vec::new(),
        envs: Vec::new(),
        options: GeneratorOptions {
            disable_name_suffix_hash: false,
            labels,
        },
    };
    for e in &c.entries {
        if e.file.is_none() && literal_safe(&e.value) {
            g.literals.push(format!("{}={}", e.key, e.value));
        } else {
            let rel = format!("configs/{}/{}", c.name, e.key);
            g.files.push(format!("{}={rel}", e.key));
            files.push(OutFile {
                path: format!("{dir}/{rel}"),
                bytes: e.value.clone().into_bytes(),
            });
        }
    }
    g
}

/// Whether Kustomize reads `KEY=value` back as exactly `value`: one line, and not
/// wrapped in quotes (which Kustomize strips).
fn literal_safe(value: &str) -> bool {
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')));
    !value.contains(['\n', '\r']) && !quoted
}

/// The labels a generated object gets from its generator: its own, less those the
/// kustomization's `labels` add.
fn own_labels(v: &Value, common: &Labels) -> Labels {
    v.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !common.contains_key(*k) && k.as_str() != l::INSTANCE)
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// ConfigMap name (with its hash) -> config name, for a model.
fn config_names(m: &Model) -> HashMap<String, String> {
    m.configs
        .iter()
        .map(|c| (format!("{}-{}", c.name, l::config_hash(c)), c.name.clone()))
        .collect()
}

// ---- the base ---------------------------------------------------------------------

struct Base<'a> {
    built: Built<'a>,
    /// Labels every object carries, whatever the environment.
    common: Labels,
    /// Images whose every use has the same tag: name -> tag.
    images: BTreeMap<String, String>,
    /// The raw objects (ConfigMaps included).
    raw: Vec<Obj>,
    /// What `kubectl kustomize base` gives: the raw objects without the instance label.
    built_objects: Vec<Obj>,
}

impl<'a> Base<'a> {
    fn new(built: Built<'a>) -> Result<Base<'a>, EmitError> {
        let common = l::platform_labels(built.model);
        let mut raw = values(built.objects)?;
        let mut tags: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
        for o in &mut raw {
            each_image(&mut o.v, &mut |image| match split_image(image) {
                Some((name, tag)) => {
                    tags.entry(name.to_string())
                        .or_default()
                        .insert(Some(tag.to_string()));
                }
                None => {
                    let name = image.split(['@', ':']).next().unwrap_or(image);
                    tags.entry(name.to_string()).or_default().insert(None);
                }
            });
        }
        let images = tags
            .into_iter()
            .filter_map(
                |(name, tags)| match tags.into_iter().collect::<Vec<_>>()[..] {
                    [Some(ref tag)] => Some((name, tag.clone())),
                    _ => None,
                },
            )
            .collect();
        let built_objects = raw
            .iter()
            .map(|o| {
                let mut v = o.v.clone();
                each_label_map(&mut v, &mut |m| {
                    m.remove(l::INSTANCE);
                });
                Obj {
                    file: o.file.clone(),
                    v,
                }
            })
            .collect();
        Ok(Base {
            built,
            common,
            images,
            raw,
            built_objects,
        })
    }

    fn ns(&self) -> &str {
        &self.built.model.platform.namespace
    }

    fn files(&self) -> Result<Vec<OutFile>, EmitError> {
        let dir = format!("{ROOT}/base");
        let unhash = config_names(self.built.model);
        let mut by_file: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        let mut config_labels: HashMap<String, Labels> = HashMap::new();
        for o in &self.raw {
            if is_config_map(&o.v) {
                if let Some(name) =
                    o.v.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .and_then(|n| unhash.get(n))
                {
                    config_labels.insert(name.clone(), own_labels(&o.v, &self.common));
                }
                continue;
            }
            let mut v = o.v.clone();
            if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("namespace");
            }
            each_label_map(&mut v, &mut |m| {
                m.retain(|k, _| !self.common.contains_key(k) && k != l::INSTANCE);
            });
            prune_empty_labels(&mut v);
            each_image(&mut v, &mut |image| {
                if let Some((name, _)) = split_image(image)
                    && self.images.contains_key(name)
                {
                    *image = name.to_string();
                }
            });
            rename_config_refs(&mut v, &unhash);
            by_file.entry(&o.file).or_default().push(v);
        }
        let mut files = Vec::new();
        let mut k = Kustomization::new(by_file.keys().map(|f| (*f).to_string()).collect());
        k.namespace = Some(self.ns().to_string());
        k.labels.push(LabelSet {
            pairs: self.common.clone(),
            include_templates: true,
        });
        k.images = self
            .images
            .iter()
            .map(|(name, tag)| Image {
                name: name.clone(),
                new_tag: tag.clone(),
            })
            .collect();
        for c in &self.built.model.configs {
            let labels = config_labels.get(&c.name).cloned().unwrap_or_default();
            k.config_map_generator
                .push(generator(c, labels, None, &dir, &mut files));
        }
        for (file, objects) in &by_file {
            let refs: Vec<&Value> = objects.iter().collect();
            files.push(objects_file(format!("{dir}/{file}"), &refs)?);
        }
        let comment = vec![
            "The platform without any environment's overrides; each overlay under".to_string(),
            "../overlays builds on it. Labels every object carries, image tags and configs"
                .to_string(),
            "are set here, once.".to_string(),
        ];
        files.push(OutFile {
            path: format!("{dir}/kustomization.yaml"),
            bytes: with_header(&comment, &yaml_of("kustomization.yaml", &k)?),
        });
        Ok(files)
    }
}

// ---- overlays ---------------------------------------------------------------------

struct Overlay<'a> {
    base: &'a Base<'a>,
    env: Built<'a>,
    dir: String,
}

impl<'a> Overlay<'a> {
    fn new(base: &'a Base<'a>, env: Built<'a>) -> Result<Overlay<'a>, EmitError> {
        Ok(Overlay {
            base,
            env,
            dir: format!("{ROOT}/overlays/{}", env.model.env),
        })
    }

    fn deploy_secrets(&self) -> impl Iterator<Item = &crate::check::model::Secret> {
        self.env
            .model
            .secrets
            .iter()
            .map(AsRef::as_ref)
            .filter(|s| s.source == SecretSource::Deploy)
    }

    fn secret_env_files(&self) -> Vec<String> {
        self.deploy_secrets()
            .map(|s| format!("{}/secrets/{}.env", self.dir, s.name))
            .collect()
    }

    fn files(&self) -> Result<Vec<OutFile>, EmitError> {
        let m = self.env.model;
        let base_m = self.base.built.model;
        let mut files = Vec::new();
        let mut k = Kustomization::new(vec!["../../base".to_string()]);
        let mut predicted: Vec<Obj> = self.base.built_objects.clone();
        // The base name of every predicted object, for patch targets.
        let base_ids: Vec<Id> = predicted.iter().map(|o| Id::of(&o.v)).collect();

        // namespace: always named, so that an overlay says where it deploys
        k.namespace = Some(m.platform.namespace.clone());
        if m.platform.namespace != base_m.platform.namespace {
            for o in &mut predicted {
                set_namespace(&mut o.v, &m.platform.namespace);
            }
        }

        // labels: the instance, and common labels the environment changes
        let mut pairs = l::platform_labels(m);
        pairs.retain(|key, v| self.base.common.get(key) != Some(v));
        pairs.insert(l::INSTANCE.into(), l::instance(m));
        for o in &mut predicted {
            each_label_map(&mut o.v, &mut |labels| {
                for (key, v) in &pairs {
                    labels.insert(key.clone(), Value::String(v.clone()));
                }
            });
        }
        k.labels.push(LabelSet {
            pairs,
            include_templates: true,
        });

        let env_raw = values(self.env.objects)?;
        let env_by_id: HashMap<Id, usize> = env_raw
            .iter()
            .enumerate()
            .map(|(i, o)| (Id::of(&o.v), i))
            .collect();

        // images: tags the environment changes for every use of an image
        let mut env_tags: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for o in &env_raw {
            let mut v = o.v.clone();
            each_image(&mut v, &mut |image| {
                let (name, tag) = split_image(image).unwrap_or((image, ""));
                env_tags
                    .entry(name.to_string())
                    .or_default()
                    .insert(tag.to_string());
            });
        }
        for (name, base_tag) in &self.base.images {
            let Some(tags) = env_tags.get(name) else {
                continue;
            };
            if let [tag] = tags.iter().collect::<Vec<_>>()[..]
                && !tag.is_empty()
                && tag != base_tag
            {
                k.images.push(Image {
                    name: name.clone(),
                    new_tag: tag.clone(),
                });
                for o in &mut predicted {
                    each_image(&mut o.v, &mut |image| {
                        if split_image(image).is_some_and(|(n, _)| n == name) {
                            *image = format!("{name}:{tag}");
                        }
                    });
                }
            }
        }

        // replicas of workloads that keep a fixed count in both
        for o in &mut predicted {
            let id = Id::of(&o.v);
            if !matches!(id.kind.as_str(), "Deployment" | "StatefulSet") {
                continue;
            }
            let Some(&i) = env_by_id.get(&id) else {
                continue;
            };
            let (Some(from), Some(to)) = (
                o.v.pointer("/spec/replicas").and_then(Value::as_i64),
                env_raw[i]
                    .v
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64),
            ) else {
                continue;
            };
            if from != to {
                k.replicas.push(Replicas {
                    name: id.name.clone(),
                    count: to,
                });
                if let Some(r) = o.v.pointer_mut("/spec/replicas") {
                    *r = Value::from(to);
                }
            }
        }

        // configs
        let base_configs: HashMap<&str, &Config> = base_m
            .configs
            .iter()
            .map(|c| (c.name.as_str(), c.as_ref()))
            .collect();
        let env_configs: BTreeSet<&str> = m.configs.iter().map(|c| c.name.as_str()).collect();
        let mut renamed: HashMap<String, String> = HashMap::new();
        for c in &m.configs {
            let labels = env_raw
                .iter()
                .find(|o| {
                    is_config_map(&o.v)
                        && o.v.pointer("/metadata/labels/app.kubernetes.io~1name")
                            == Some(&Value::String(c.name.clone()))
                })
                .map(|o| own_labels(&o.v, &self.base.common))
                .unwrap_or_default();
            match base_configs.get(c.name.as_str()) {
                Some(b) if b.entries == c.entries => {}
                Some(b) => {
                    k.config_map_generator.push(generator(
                        c,
                        labels,
                        Some("replace"),
                        &self.dir,
                        &mut files,
                    ));
                    renamed.insert(
                        format!("{}-{}", b.name, l::config_hash(b)),
                        format!("{}-{}", c.name, l::config_hash(c)),
                    );
                }
                None => {
                    k.config_map_generator
                        .push(generator(c, labels, None, &self.dir, &mut files));
                }
            }
        }
        for o in &mut predicted {
            rename_config_refs(&mut o.v, &renamed);
        }

        // what is left: patches, added objects, deleted objects
        let unhash = config_names(m);
        let predicted_by_id: HashMap<Id, usize> = predicted
            .iter()
            .enumerate()
            .map(|(i, o)| (Id::of(&o.v), i))
            .collect();
        let mut added: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        let mut patch_files: Vec<(Id, Vec<Op>)> = Vec::new();
        for o in &env_raw {
            if is_config_map(&o.v) {
                continue;
            }
            let id = Id::of(&o.v);
            match predicted_by_id.get(&id) {
                Some(&i) => {
                    let mut ops = Vec::new();
                    let mut path = String::new();
                    diff(&predicted[i].v, &o.v, &mut path, &mut ops);
                    for op in &mut ops {
                        if let Some(v) = &mut op.value {
                            rename_config_refs(v, &unhash);
                        }
                    }
                    if !ops.is_empty() {
                        patch_files.push((base_ids[i].clone(), ops));
                    }
                }
                None => {
                    let mut v = o.v.clone();
                    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                        meta.remove("namespace");
                    }
                    rename_config_refs(&mut v, &unhash);
                    added.entry(&o.file).or_default().push(v);
                }
            }
        }
        let mut deleted: Vec<Id> = Vec::new();
        for (i, o) in predicted.iter().enumerate() {
            if is_config_map(&o.v) {
                // A generated ConfigMap is known by its generator's name.
                if let Some(name) =
                    o.v.pointer("/metadata/labels/app.kubernetes.io~1name")
                        .and_then(Value::as_str)
                    && !env_configs.contains(name)
                {
                    deleted.push(Id {
                        name: name.to_string(),
                        ..base_ids[i].clone()
                    });
                }
                continue;
            }
            if !env_by_id.contains_key(&Id::of(&o.v)) {
                deleted.push(base_ids[i].clone());
            }
        }

        for (file, objects) in &added {
            k.resources.push((*file).to_string());
            let refs: Vec<&Value> = objects.iter().collect();
            files.push(objects_file(format!("{}/{file}", self.dir), &refs)?);
        }
        for id in deleted {
            k.patches.push(Patch {
                path: None,
                patch: Some(format!(
                    "$patch: delete\napiVersion: {}\nkind: {}\nmetadata:\n  name: {}\n",
                    id.api_version, id.kind, id.name
                )),
                target: None,
            });
        }
        for (id, ops) in patch_files {
            let rel = format!("patches/{}-{}.yaml", id.kind.to_lowercase(), id.name);
            let (group, version) = match id.api_version.split_once('/') {
                Some((g, v)) => (Some(g.to_string()), v.to_string()),
                None => (None, id.api_version.clone()),
            };
            files.push(OutFile {
                path: format!("{}/{rel}", self.dir),
                bytes: with_header(&[], &yaml_of(&rel, &ops)?),
            });
            k.patches.push(Patch {
                path: Some(rel),
                patch: None,
                target: Some(Target {
                    group,
                    version,
                    kind: id.kind,
                    name: id.name,
                }),
            });
        }

        // deploy-time secrets
        let secrets: Vec<_> = self.deploy_secrets().collect();
        for s in &secrets {
            let mut labels = l::platform_labels(m);
            labels.insert(l::NAME.into(), s.name.clone());
            labels.insert(l::COMPONENT.into(), "secret".into());
            k.secret_generator.push(Generator {
                name: s.name.clone(),
                behavior: None,
                literals: Vec::new(),
                files: Vec::new(),
                envs: vec![format!("secrets/{}.env", s.name)],
                options: GeneratorOptions {
                    disable_name_suffix_hash: true,
                    labels,
                },
            });
            let example: String = s.keys.iter().map(|key| format!("{key}=\n")).collect();
            files.push(OutFile {
                path: format!("{}/secrets/{}.env.example", self.dir, s.name),
                bytes: example.into_bytes(),
            });
        }
        if !secrets.is_empty() {
            files.push(OutFile {
                path: format!("{}/secrets/.gitignore", self.dir),
                bytes: b"# Secret values: never committed.\n*.env\n".to_vec(),
            });
        }

        let mut comment = vec![format!(
            "Environment `{}`: the base, and only what this environment changes.",
            m.env
        )];
        if !secrets.is_empty() {
            comment.push(String::new());
            comment.push(
                "Secrets supplied at deploy time: before building, create each secrets/NAME.env"
                    .to_string(),
            );
            comment.push(
                "from secrets/NAME.env.example (one KEY=value per line). They are git-ignored,"
                    .to_string(),
            );
            comment.push("and a new build keeps them.".to_string());
        }
        files.push(OutFile {
            path: format!("{}/kustomization.yaml", self.dir),
            bytes: with_header(&comment, &yaml_of("kustomization.yaml", &k)?),
        });
        Ok(files)
    }
}

// ---- differences as JSON 6902 operations -------------------------------------------

fn push_token(path: &mut String, key: &str) {
    path.push('/');
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// The operations that turn `a` into `b`, one per changed field: maps key by key, lists
/// of the same length item by item, a list that grows at its end by appending, any other
/// list whole.
fn diff(a: &Value, b: &Value, path: &mut String, ops: &mut Vec<Op>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, va) in x {
                let len = path.len();
                push_token(path, key);
                match y.get(key) {
                    Some(vb) => diff(va, vb, path, ops),
                    None => ops.push(Op {
                        op: "remove",
                        path: path.clone(),
                        value: None,
                    }),
                }
                path.truncate(len);
            }
            for (key, vb) in y {
                if !x.contains_key(key) {
                    let len = path.len();
                    push_token(path, key);
                    ops.push(Op {
                        op: "add",
                        path: path.clone(),
                        value: Some(vb.clone()),
                    });
                    path.truncate(len);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                diff(va, vb, path, ops);
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) if y.len() > x.len() && y.starts_with(x) => {
            for v in &y[x.len()..] {
                ops.push(Op {
                    op: "add",
                    path: format!("{path}/-"),
                    value: Some(v.clone()),
                });
            }
        }
        _ if a == b => {}
        _ => ops.push(Op {
            op: "replace",
            path: path.clone(),
            value: Some(b.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(a: Value, b: Value) -> Vec<(String, String, Option<Value>)> {
        let mut out = Vec::new();
        diff(&a, &b, &mut String::new(), &mut out);
        out.into_iter()
            .map(|o| (o.op.to_string(), o.path, o.value))
            .collect()
    }

    #[test]
    fn differences_become_one_operation_per_field() {
        assert_eq!(
            ops(
                json!({"spec": {"min": 1, "max": 3, "gone": true}}),
                json!({"spec": {"min": 1, "max": 5, "new": "x"}})
            ),
            vec![
                ("replace".into(), "/spec/max".into(), Some(json!(5))),
                ("remove".into(), "/spec/gone".into(), None),
                ("add".into(), "/spec/new".into(), Some(json!("x"))),
            ]
        );
    }

    #[test]
    fn keys_are_escaped_and_lists_grow_at_the_end_or_are_replaced() {
        assert_eq!(
            ops(
                json!({"labels": {"a/b~c": "1"}, "l": [1, 2], "r": [1, 2]}),
                json!({"labels": {"a/b~c": "2"}, "l": [1, 2, 3], "r": [2]})
            ),
            vec![
                ("replace".into(), "/labels/a~1b~0c".into(), Some(json!("2"))),
                ("add".into(), "/l/-".into(), Some(json!(3))),
                ("replace".into(), "/r".into(), Some(json!([2]))),
            ]
        );
    }

    #[test]
    fn images_split_only_when_kustomize_can_write_them_back() {
        assert_eq!(
            split_image("docker.io/library/postgres:17-alpine"),
            Some(("docker.io/library/postgres", "17-alpine"))
        );
        assert_eq!(
            split_image("registry:5000/app:1.0"),
            Some(("registry:5000/app", "1.0"))
        );
        assert_eq!(split_image("registry:5000/app"), None);
        assert_eq!(split_image("app@sha256:abc"), None);
        assert_eq!(split_image("app"), None);
    }

    #[test]
    fn literals_that_kustomize_would_change_become_files() {
        assert!(literal_safe("info"));
        assert!(literal_safe(""));
        assert!(literal_safe("a=b"));
        assert!(!literal_safe("two\nlines"));
        assert!(!literal_safe("\"quoted\""));
        assert!(!literal_safe("'quoted'"));
        assert!(literal_safe("\"half"));
    }
}
