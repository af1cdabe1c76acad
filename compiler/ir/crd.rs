//! Custom resources the output uses, as small typed structs of our own (k8s-openapi
//! covers only built-in kinds): External Secrets, Gateway API, Linkerd and Istio policy.
//! Field names follow each project's CRD schema; optional fields are left out when unset.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// A custom resource: `apiVersion`, `kind`, `metadata` and a `spec`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Custom<S> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: S,
}

/// `matchLabels` only.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
}

// ---- External Secrets (external-secrets.io/v1) ----------------------------------------

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    pub refresh_interval: String,
    pub secret_store_ref: StoreRef,
    pub target: ExternalSecretTarget,
    pub data: Vec<ExternalSecretData>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoreRef {
    pub name: String,
    pub kind: &'static str,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretTarget {
    pub name: String,
    pub creation_policy: &'static str,
    pub deletion_policy: &'static str,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretData {
    pub secret_key: String,
    pub remote_ref: RemoteRef,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RemoteRef {
    pub key: String,
    pub property: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SecretStoreSpec {
    pub provider: SecretStoreProvider,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SecretStoreProvider {
    pub vault: VaultProvider,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct VaultProvider {
    pub server: String,
    pub path: String,
    pub version: &'static str,
    pub auth: VaultAuth,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct VaultAuth {
    pub kubernetes: VaultKubernetesAuth,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VaultKubernetesAuth {
    pub mount_path: &'static str,
    pub role: String,
    pub service_account_ref: NameRef,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NameRef {
    pub name: String,
}

// ---- Gateway API (gateway.networking.k8s.io/v1) ---------------------------------------

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_class_name: Option<String>,
    pub listeners: Vec<Listener>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    pub name: String,
    pub protocol: &'static str,
    pub port: i32,
    pub hostname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ListenerTls>,
    pub allowed_routes: AllowedRoutes,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ListenerTls {
    pub mode: &'static str,
    pub certificate_refs: Vec<CertificateRef>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CertificateRef {
    pub kind: &'static str,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AllowedRoutes {
    pub namespaces: RouteNamespaces,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RouteNamespaces {
    pub from: &'static str,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<String>,
    pub rules: Vec<HttpRouteRule>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    pub name: String,
    pub section_name: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    pub matches: Vec<HttpRouteMatch>,
    pub backend_refs: Vec<BackendRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<RouteTimeouts>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HttpRouteMatch {
    pub path: PathMatch,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PathMatch {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BackendRef {
    pub name: String,
    pub port: i32,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RouteTimeouts {
    pub request: String,
}

// ---- Linkerd (policy.linkerd.io) -------------------------------------------------------

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LinkerdServerSpec {
    pub pod_selector: Selector,
    pub port: String,
    pub proxy_protocol: &'static str,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MeshTlsAuthenticationSpec {
    pub identity_refs: Vec<IdentityRef>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IdentityRef {
    pub kind: &'static str,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationPolicySpec {
    pub target_ref: TargetRef,
    pub required_authentication_refs: Vec<TargetRef>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TargetRef {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
}

// ---- Istio (security.istio.io/v1) ------------------------------------------------------

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PeerAuthenticationSpec {
    pub mtls: Mtls,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Mtls {
    pub mode: &'static str,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IstioAuthorizationSpec {
    pub selector: Selector,
    pub action: &'static str,
    pub rules: Vec<IstioRule>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IstioRule {
    pub from: Vec<IstioFrom>,
    pub to: Vec<IstioTo>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IstioFrom {
    pub source: IstioSource,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct IstioSource {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IstioTo {
    pub operation: IstioOperation,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IstioOperation {
    pub ports: Vec<String>,
}
