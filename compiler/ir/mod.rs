//! Typed model of one environment -> the Kubernetes objects it compiles to, grouped by
//! the file each belongs in (one per workload, gateway and config, plus the platform's
//! own). Target-neutral: the raw, Kustomize and Helm emitters all start from this set.
//! Every built-in object is a k8s-openapi struct; custom resources are the structs of
//! `crd`.

pub mod crd;
pub mod gateway;
pub mod labels;
mod network;
mod platform;
pub mod workload;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, PodSpec, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::check::Model;
pub use labels::Labels;

/// One Kubernetes object of the output.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Namespace(Box<Namespace>),
    ServiceAccount(Box<ServiceAccount>),
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    Job(Box<Job>),
    CronJob(Box<CronJob>),
    Service(Box<Service>),
    Hpa(Box<HorizontalPodAutoscaler>),
    Pdb(Box<PodDisruptionBudget>),
    Pvc(Box<PersistentVolumeClaim>),
    ConfigMap(Box<ConfigMap>),
    NetworkPolicy(Box<NetworkPolicy>),
    Role(Box<Role>),
    RoleBinding(Box<RoleBinding>),
    Ingress(Box<Ingress>),
    ExternalSecret(Box<crd::Custom<crd::ExternalSecretSpec>>),
    SecretStore(Box<crd::Custom<crd::SecretStoreSpec>>),
    Gateway(Box<crd::Custom<crd::GatewaySpec>>),
    HttpRoute(Box<crd::Custom<crd::HttpRouteSpec>>),
    LinkerdServer(Box<crd::Custom<crd::LinkerdServerSpec>>),
    MeshTlsAuthentication(Box<crd::Custom<crd::MeshTlsAuthenticationSpec>>),
    LinkerdAuthorization(Box<crd::Custom<crd::AuthorizationPolicySpec>>),
    PeerAuthentication(Box<crd::Custom<crd::PeerAuthenticationSpec>>),
    IstioAuthorization(Box<crd::Custom<crd::IstioAuthorizationSpec>>),
}

macro_rules! each {
    ($self:expr, $o:ident => $e:expr) => {
        match $self {
            Object::Namespace($o) => $e,
            Object::ServiceAccount($o) => $e,
            Object::Deployment($o) => $e,
            Object::StatefulSet($o) => $e,
            Object::Job($o) => $e,
            Object::CronJob($o) => $e,
            Object::Service($o) => $e,
            Object::Hpa($o) => $e,
            Object::Pdb($o) => $e,
            Object::Pvc($o) => $e,
            Object::ConfigMap($o) => $e,
            Object::NetworkPolicy($o) => $e,
            Object::Role($o) => $e,
            Object::RoleBinding($o) => $e,
            Object::Ingress($o) => $e,
            Object::ExternalSecret($o) => $e,
            Object::SecretStore($o) => $e,
            Object::Gateway($o) => $e,
            Object::HttpRoute($o) => $e,
            Object::LinkerdServer($o) => $e,
            Object::MeshTlsAuthentication($o) => $e,
            Object::LinkerdAuthorization($o) => $e,
            Object::PeerAuthentication($o) => $e,
            Object::IstioAuthorization($o) => $e,
        }
    };
}

impl Object {
    pub fn metadata(&self) -> &ObjectMeta {
        each!(self, o => &o.metadata)
    }

    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        each!(self, o => &mut o.metadata)
    }

    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or("")
    }

    /// The object's own metadata and that of the templates of what it creates (pod
    /// templates, a CronJob's job template, a StatefulSet's volume claim templates), each
    /// created when missing: where Kustomize's `labels` with `includeTemplates` write.
    pub fn label_metas_mut(&mut self) -> Vec<&mut ObjectMeta> {
        self.metas_mut(true)
    }

    /// The same metadata, only where it is there: nothing is added to the object.
    pub fn present_metas_mut(&mut self) -> Vec<&mut ObjectMeta> {
        self.metas_mut(false)
    }

    fn metas_mut(&mut self, create: bool) -> Vec<&mut ObjectMeta> {
        fn meta(m: &mut Option<ObjectMeta>, create: bool) -> Option<&mut ObjectMeta> {
            if create {
                Some(m.get_or_insert_with(ObjectMeta::default))
            } else {
                m.as_mut()
            }
        }
        match self {
            Object::Deployment(d) => {
                let mut v = vec![&mut d.metadata];
                if let Some(spec) = d.spec.as_mut() {
                    v.extend(meta(&mut spec.template.metadata, create));
                }
                v
            }
            Object::StatefulSet(s) => {
                let mut v = vec![&mut s.metadata];
                if let Some(spec) = s.spec.as_mut() {
                    v.extend(meta(&mut spec.template.metadata, create));
                    for c in spec.volume_claim_templates.iter_mut().flatten() {
                        v.push(&mut c.metadata);
                    }
                }
                v
            }
            Object::Job(j) => {
                let mut v = vec![&mut j.metadata];
                if let Some(spec) = j.spec.as_mut() {
                    v.extend(meta(&mut spec.template.metadata, create));
                }
                v
            }
            Object::CronJob(c) => {
                let mut v = vec![&mut c.metadata];
                if let Some(spec) = c.spec.as_mut() {
                    let job = &mut spec.job_template;
                    v.extend(meta(&mut job.metadata, create));
                    if let Some(js) = job.spec.as_mut() {
                        v.extend(meta(&mut js.template.metadata, create));
                    }
                }
                v
            }
            other => vec![other.metadata_mut()],
        }
    }

    /// Template metadata left empty goes back to none.
    pub fn prune_template_metas(&mut self) {
        fn prune(m: &mut Option<ObjectMeta>) {
            if m.as_ref().is_some_and(|m| *m == ObjectMeta::default()) {
                *m = None;
            }
        }
        match self {
            Object::Deployment(d) => {
                if let Some(spec) = d.spec.as_mut() {
                    prune(&mut spec.template.metadata);
                }
            }
            Object::StatefulSet(s) => {
                if let Some(spec) = s.spec.as_mut() {
                    prune(&mut spec.template.metadata);
                }
            }
            Object::Job(j) => {
                if let Some(spec) = j.spec.as_mut() {
                    prune(&mut spec.template.metadata);
                }
            }
            Object::CronJob(c) => {
                if let Some(spec) = c.spec.as_mut() {
                    prune(&mut spec.job_template.metadata);
                    if let Some(js) = spec.job_template.spec.as_mut() {
                        prune(&mut js.template.metadata);
                    }
                }
            }
            _ => {}
        }
    }

    /// The pod spec of a workload.
    pub fn pod_spec(&self) -> Option<&PodSpec> {
        match self {
            Object::Deployment(d) => d.spec.as_ref()?.template.spec.as_ref(),
            Object::StatefulSet(s) => s.spec.as_ref()?.template.spec.as_ref(),
            Object::Job(j) => j.spec.as_ref()?.template.spec.as_ref(),
            Object::CronJob(c) => c
                .spec
                .as_ref()?
                .job_template
                .spec
                .as_ref()?
                .template
                .spec
                .as_ref(),
            _ => None,
        }
    }

    /// The pod spec of a workload, mutably.
    pub fn pod_spec_mut(&mut self) -> Option<&mut PodSpec> {
        match self {
            Object::Deployment(d) => d.spec.as_mut()?.template.spec.as_mut(),
            Object::StatefulSet(s) => s.spec.as_mut()?.template.spec.as_mut(),
            Object::Job(j) => j.spec.as_mut()?.template.spec.as_mut(),
            Object::CronJob(c) => c
                .spec
                .as_mut()?
                .job_template
                .spec
                .as_mut()?
                .template
                .spec
                .as_mut(),
            _ => None,
        }
    }

    /// The replica count of a Deployment or StatefulSet.
    pub fn replicas_mut(&mut self) -> Option<&mut Option<i32>> {
        match self {
            Object::Deployment(d) => Some(&mut d.spec.as_mut()?.replicas),
            Object::StatefulSet(s) => Some(&mut s.spec.as_mut()?.replicas),
            _ => None,
        }
    }

    /// `apiVersion` and `kind`.
    pub fn type_meta(&self) -> (&'static str, &'static str) {
        use k8s_openapi::Resource;
        fn of<T: Resource>(_: &T) -> (&'static str, &'static str) {
            (T::API_VERSION, T::KIND)
        }
        match self {
            Object::ExternalSecret(o) => (o.api_version, o.kind),
            Object::SecretStore(o) => (o.api_version, o.kind),
            Object::Gateway(o) => (o.api_version, o.kind),
            Object::HttpRoute(o) => (o.api_version, o.kind),
            Object::LinkerdServer(o) => (o.api_version, o.kind),
            Object::MeshTlsAuthentication(o) => (o.api_version, o.kind),
            Object::LinkerdAuthorization(o) => (o.api_version, o.kind),
            Object::PeerAuthentication(o) => (o.api_version, o.kind),
            Object::IstioAuthorization(o) => (o.api_version, o.kind),
            Object::Namespace(o) => of(&**o),
            Object::ServiceAccount(o) => of(&**o),
            Object::Deployment(o) => of(&**o),
            Object::StatefulSet(o) => of(&**o),
            Object::Job(o) => of(&**o),
            Object::CronJob(o) => of(&**o),
            Object::Service(o) => of(&**o),
            Object::Hpa(o) => of(&**o),
            Object::Pdb(o) => of(&**o),
            Object::Pvc(o) => of(&**o),
            Object::ConfigMap(o) => of(&**o),
            Object::NetworkPolicy(o) => of(&**o),
            Object::Role(o) => of(&**o),
            Object::RoleBinding(o) => of(&**o),
            Object::Ingress(o) => of(&**o),
        }
    }
}

impl From<Namespace> for Object {
    fn from(o: Namespace) -> Object {
        Object::Namespace(Box::new(o))
    }
}

impl From<ServiceAccount> for Object {
    fn from(o: ServiceAccount) -> Object {
        Object::ServiceAccount(Box::new(o))
    }
}

impl From<Deployment> for Object {
    fn from(o: Deployment) -> Object {
        Object::Deployment(Box::new(o))
    }
}

impl From<StatefulSet> for Object {
    fn from(o: StatefulSet) -> Object {
        Object::StatefulSet(Box::new(o))
    }
}

impl From<Job> for Object {
    fn from(o: Job) -> Object {
        Object::Job(Box::new(o))
    }
}

impl From<CronJob> for Object {
    fn from(o: CronJob) -> Object {
        Object::CronJob(Box::new(o))
    }
}

impl From<Service> for Object {
    fn from(o: Service) -> Object {
        Object::Service(Box::new(o))
    }
}

impl From<HorizontalPodAutoscaler> for Object {
    fn from(o: HorizontalPodAutoscaler) -> Object {
        Object::Hpa(Box::new(o))
    }
}

impl From<PodDisruptionBudget> for Object {
    fn from(o: PodDisruptionBudget) -> Object {
        Object::Pdb(Box::new(o))
    }
}

impl From<PersistentVolumeClaim> for Object {
    fn from(o: PersistentVolumeClaim) -> Object {
        Object::Pvc(Box::new(o))
    }
}

impl From<ConfigMap> for Object {
    fn from(o: ConfigMap) -> Object {
        Object::ConfigMap(Box::new(o))
    }
}

impl From<NetworkPolicy> for Object {
    fn from(o: NetworkPolicy) -> Object {
        Object::NetworkPolicy(Box::new(o))
    }
}

impl From<Role> for Object {
    fn from(o: Role) -> Object {
        Object::Role(Box::new(o))
    }
}

impl From<RoleBinding> for Object {
    fn from(o: RoleBinding) -> Object {
        Object::RoleBinding(Box::new(o))
    }
}

impl From<Ingress> for Object {
    fn from(o: Ingress) -> Object {
        Object::Ingress(Box::new(o))
    }
}

impl From<crd::Custom<crd::ExternalSecretSpec>> for Object {
    fn from(o: crd::Custom<crd::ExternalSecretSpec>) -> Object {
        Object::ExternalSecret(Box::new(o))
    }
}

impl From<crd::Custom<crd::SecretStoreSpec>> for Object {
    fn from(o: crd::Custom<crd::SecretStoreSpec>) -> Object {
        Object::SecretStore(Box::new(o))
    }
}

impl From<crd::Custom<crd::GatewaySpec>> for Object {
    fn from(o: crd::Custom<crd::GatewaySpec>) -> Object {
        Object::Gateway(Box::new(o))
    }
}

impl From<crd::Custom<crd::HttpRouteSpec>> for Object {
    fn from(o: crd::Custom<crd::HttpRouteSpec>) -> Object {
        Object::HttpRoute(Box::new(o))
    }
}

impl From<crd::Custom<crd::LinkerdServerSpec>> for Object {
    fn from(o: crd::Custom<crd::LinkerdServerSpec>) -> Object {
        Object::LinkerdServer(Box::new(o))
    }
}

impl From<crd::Custom<crd::MeshTlsAuthenticationSpec>> for Object {
    fn from(o: crd::Custom<crd::MeshTlsAuthenticationSpec>) -> Object {
        Object::MeshTlsAuthentication(Box::new(o))
    }
}

impl From<crd::Custom<crd::AuthorizationPolicySpec>> for Object {
    fn from(o: crd::Custom<crd::AuthorizationPolicySpec>) -> Object {
        Object::LinkerdAuthorization(Box::new(o))
    }
}

impl From<crd::Custom<crd::PeerAuthenticationSpec>> for Object {
    fn from(o: crd::Custom<crd::PeerAuthenticationSpec>) -> Object {
        Object::PeerAuthentication(Box::new(o))
    }
}

impl From<crd::Custom<crd::IstioAuthorizationSpec>> for Object {
    fn from(o: crd::Custom<crd::IstioAuthorizationSpec>) -> Object {
        Object::IstioAuthorization(Box::new(o))
    }
}

impl Serialize for Object {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        each!(self, o => o.serialize(s))
    }
}

/// What a file of objects is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The namespace.
    Namespace,
    /// Platform-wide objects: default network policies, secret access, the secret store.
    Platform,
    /// The external secrets.
    Secrets,
    /// One declaration (workload, config or gateway), by name.
    Decl(String),
}

/// Objects that belong in one file.
#[derive(Clone, Debug)]
pub struct Group {
    /// The file name, like `service-wallet.yaml`.
    pub file: String,
    pub origin: Origin,
    /// Comment lines for the top of the file (without `# `).
    pub comment: Vec<String>,
    pub objects: Vec<Object>,
}

/// Every object of one environment.
#[derive(Clone, Debug)]
pub struct Objects {
    pub env: String,
    pub groups: Vec<Group>,
}

impl Objects {
    pub fn iter(&self) -> impl Iterator<Item = &Object> {
        self.groups.iter().flat_map(|g| g.objects.iter())
    }

    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.objects.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Lowers one environment's model to its objects.
pub fn lower(m: &Model) -> Objects {
    let groups = lower_placed(&labels::Cx::new(m))
        .into_iter()
        .map(|(_, g)| g)
        .collect();
    Objects {
        env: m.env.clone(),
        groups,
    }
}

/// Every group of a model, in output order, each with its [`place`].
pub fn lower_placed(cx: &labels::Cx) -> Vec<(usize, Group)> {
    let sources = sources(cx.m);
    // Workloads are most of the work and independent of each other.
    crate::par::runs(&sources, |start, run| {
        run.iter()
            .enumerate()
            .filter_map(|(i, s)| Some((start + i, lower_source(cx, *s)?)))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// What one group of objects is lowered from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Namespace,
    Platform,
    Secrets,
    Config(usize),
    Workload(usize),
    Gateway(usize),
}

/// Every group's source, in output order.
pub fn sources(m: &Model) -> Vec<Source> {
    let mut s = vec![Source::Namespace, Source::Platform, Source::Secrets];
    s.extend((0..m.configs.len()).map(Source::Config));
    s.extend((0..m.workloads.len()).map(Source::Workload));
    s.extend((0..m.gateways.len()).map(Source::Gateway));
    s
}

/// Where the group of `s` comes in the model's output order: its index in [`sources`].
pub fn place(m: &Model, s: Source) -> usize {
    match s {
        Source::Namespace => 0,
        Source::Platform => 1,
        Source::Secrets => 2,
        Source::Config(i) => 3 + i,
        Source::Workload(i) => 3 + m.configs.len() + i,
        Source::Gateway(i) => 3 + m.configs.len() + m.workloads.len() + i,
    }
}

/// Every group's source in any of `models`, in the first model's output order, then
/// those only later models have.
pub fn sources_of<'m>(models: impl IntoIterator<Item = &'m Model>) -> Vec<Source> {
    let mut all: Vec<Source> = Vec::new();
    for m in models {
        let theirs = sources(m);
        if all.is_empty() {
            all = theirs;
        } else if theirs != all {
            for s in theirs {
                if !all.contains(&s) {
                    all.push(s);
                }
            }
        }
    }
    all
}

/// A part of a group's objects, by what it reads of the two settings a Helm chart
/// chooses between: the mesh, and each workload's replica count (one, a fixed number,
/// or an autoscaler). The chart lowers each part once for every value of what it reads
/// rather than once for every combination of both (`emit::helm`), so each part must read
/// no more than it says; `tests/helm.rs` holds the parts to the whole groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Reads neither.
    Fixed,
    /// Reads its workload's replica count, not the mesh.
    Replicas,
    /// Reads the mesh, not any replica count. Every group but a workload's is all mesh.
    Mesh,
}

/// One part of a source's group: its objects, each with its place in the group (the
/// objects of every part, sorted by place, are the group [`lower_source`] gives).
#[derive(Debug)]
pub struct Parted {
    pub file: String,
    pub origin: Origin,
    pub objects: Vec<(u8, Object)>,
}

/// The objects of one part of a source's group; `None` when there is no group, or when
/// none of its objects can be of this part (the groups of sources other than workloads
/// are all mesh, and are not lowered for the other parts).
pub fn lower_part(cx: &labels::Cx, s: Source, part: Part) -> Option<Parted> {
    if let Source::Workload(i) = s {
        let w = cx.m.workloads.get(i)?;
        return Some(Parted {
            file: workload::file(w),
            origin: Origin::Decl(w.name.clone()),
            objects: workload::objects(cx, w, |p| p == part),
        });
    }
    if part != Part::Mesh {
        return None;
    }
    let g = lower_source(cx, s)?;
    Some(Parted {
        file: g.file,
        origin: g.origin,
        objects: g.objects.into_iter().map(|o| (0, o)).collect(),
    })
}

/// The group of one source (the secrets have none when no secret comes from Vault).
pub fn lower_source(cx: &labels::Cx, s: Source) -> Option<Group> {
    let m = cx.m;
    match s {
        Source::Namespace => Some(platform::namespace(cx)),
        Source::Platform => Some(platform::platform(cx)),
        Source::Secrets => platform::secrets(cx),
        Source::Config(i) => m.configs.get(i).map(|c| platform::config(cx, c)),
        Source::Workload(i) => m.workloads.get(i).map(|w| workload::group(cx, w)),
        Source::Gateway(i) => m.gateways.get(i).map(|g| gateway::group(cx, g)),
    }
}
