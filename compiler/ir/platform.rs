//! The platform's own objects: the Namespace (Pod Security `restricted`, mesh injection),
//! the default network policies, who may read Secrets, the Vault secret store and the
//! external secrets, and the configs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject as RbacSubject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::crd::*;
use super::labels::Cx;
use super::{Group, Object, Origin, network};
use crate::check::model::{Config, Mesh, SecretSource, Subject};
use crate::check::value::go_duration;

/// The ServiceAccount the secret store authenticates to Vault with.
pub const VAULT_ACCOUNT: &str = "vault-auth";
/// The SecretStore every `vault(...)` secret reads from.
pub const STORE: &str = "vault";

pub fn namespace(cx: &Cx) -> Group {
    let p = &cx.m.platform;
    let mut labels = cx.labels(&p.name, "namespace");
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(
            format!("pod-security.kubernetes.io/{mode}"),
            "restricted".into(),
        );
        labels.insert(
            format!("pod-security.kubernetes.io/{mode}-version"),
            "latest".into(),
        );
    }
    let mut annotations = BTreeMap::new();
    match p.mesh {
        Mesh::Linkerd => {
            annotations.insert("linkerd.io/inject".to_string(), "enabled".to_string());
        }
        Mesh::Istio => {
            labels.insert("istio-injection".into(), "enabled".into());
        }
        Mesh::None => {}
    }
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(cx.ns.clone()),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Group {
        file: "00-namespace.yaml".into(),
        origin: Origin::Namespace,
        comment: Vec::new(),
        objects: vec![Object::from(ns)],
    }
}

fn rbac_subject(cx: &Cx, s: &Subject) -> RbacSubject {
    match s {
        Subject::Group(n) => RbacSubject {
            kind: "Group".into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            name: n.clone(),
            namespace: None,
        },
        Subject::User(n) => RbacSubject {
            kind: "User".into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            name: n.clone(),
            namespace: None,
        },
        Subject::ServiceAccount { namespace, name } => RbacSubject {
            kind: "ServiceAccount".into(),
            api_group: None,
            name: name.clone(),
            namespace: Some(if namespace.is_empty() {
                cx.ns.clone()
            } else {
                namespace.clone()
            }),
        },
    }
}

/// How the operator creates the secrets supplied at deploy time.
fn deploy_secret_comment(cx: &Cx) -> Vec<String> {
    let deploy: Vec<_> =
        cx.m.secrets
            .iter()
            .filter(|s| s.source == SecretSource::Deploy)
            .collect();
    if deploy.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        "Secrets supplied at deploy time (`from = deploy`). sorchac never writes their values:"
            .to_string(),
        "create each one before applying the workloads that use it, for example:".to_string(),
        String::new(),
    ];
    for s in deploy {
        let keys: Vec<String> = s
            .keys
            .iter()
            .map(|k| format!("--from-file={k}=./{}/{k}", s.name))
            .collect();
        lines.push(format!(
            "  kubectl -n {} create secret generic {} \\",
            cx.ns, s.name
        ));
        lines.push(format!("    {}", keys.join(" ")));
    }
    lines
}

pub fn platform(cx: &Cx) -> Group {
    let p = &cx.m.platform;
    let mut objects = vec![
        Object::from(network::default_deny(cx)),
        Object::from(network::allow_dns(cx)),
    ];
    if !p.admins.is_empty() && !cx.m.secrets.is_empty() {
        let mut names: Vec<String> = cx.m.secrets.iter().map(|s| s.name.clone()).collect();
        names.sort();
        objects.push(Object::from(Role {
            metadata: cx.meta("secret-readers", &p.name, "access"),
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec![String::new()]),
                resources: Some(vec!["secrets".into()]),
                resource_names: Some(names),
                verbs: vec!["get".into()],
                ..PolicyRule::default()
            }]),
        }));
        objects.push(Object::from(RoleBinding {
            metadata: cx.meta("secret-readers", &p.name, "access"),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: "secret-readers".into(),
            },
            subjects: Some(p.admins.iter().map(|s| rbac_subject(cx, s)).collect()),
        }));
    }
    let uses_vault =
        cx.m.secrets
            .iter()
            .any(|s| matches!(s.source, SecretSource::Vault { .. }));
    if let (true, Some(store)) = (uses_vault, &p.secret_store) {
        objects.push(Object::from(ServiceAccount {
            metadata: cx.meta(VAULT_ACCOUNT, &p.name, "secrets"),
            automount_service_account_token: Some(false),
            ..ServiceAccount::default()
        }));
        objects.push(Object::from(Custom {
            api_version: "external-secrets.io/v1",
            kind: "SecretStore",
            metadata: cx.meta(STORE, &p.name, "secrets"),
            spec: SecretStoreSpec {
                provider: SecretStoreProvider {
                    vault: VaultProvider {
                        server: store.address.clone(),
                        path: store.mount.clone(),
                        version: "v2",
                        auth: VaultAuth {
                            kubernetes: VaultKubernetesAuth {
                                mount_path: "kubernetes",
                                role: store.role.clone(),
                                service_account_ref: NameRef {
                                    name: VAULT_ACCOUNT.into(),
                                },
                            },
                        },
                    },
                },
            },
        }));
    }
    objects.extend(network::peer_authentication(cx));
    Group {
        file: "platform.yaml".into(),
        origin: Origin::Platform,
        comment: deploy_secret_comment(cx),
        objects,
    }
}

/// ExternalSecrets for every `vault(...)` secret.
pub fn secrets(cx: &Cx) -> Option<Group> {
    let objects: Vec<Object> =
        cx.m.secrets
            .iter()
            .filter_map(|s| {
                let SecretSource::Vault { path } = &s.source else {
                    return None;
                };
                Some(Object::from(Custom {
                    api_version: "external-secrets.io/v1",
                    kind: "ExternalSecret",
                    metadata: cx.meta(&s.name, &s.name, "secret"),
                    spec: ExternalSecretSpec {
                        refresh_interval: go_duration(s.refresh * 1000),
                        secret_store_ref: StoreRef {
                            name: STORE.into(),
                            kind: "SecretStore",
                        },
                        target: ExternalSecretTarget {
                            name: s.name.clone(),
                            creation_policy: "Owner",
                            deletion_policy: "Retain",
                        },
                        data: s
                            .keys
                            .iter()
                            .map(|k| ExternalSecretData {
                                secret_key: k.clone(),
                                remote_ref: RemoteRef {
                                    key: path.clone(),
                                    property: k.clone(),
                                },
                            })
                            .collect(),
                    },
                }))
            })
            .collect();
    (!objects.is_empty()).then(|| Group {
        file: "secrets.yaml".into(),
        origin: Origin::Secrets,
        comment: Vec::new(),
        objects,
    })
}

pub fn config(cx: &Cx, c: &Config) -> Group {
    let cm = ConfigMap {
        metadata: cx.meta(&cx.config_map_name(&c.name), &c.name, "config"),
        data: Some(
            c.entries
                .iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect(),
        ),
        ..ConfigMap::default()
    };
    Group {
        file: format!("config-{}.yaml", c.name),
        origin: Origin::Decl(c.name.clone()),
        comment: Vec::new(),
        objects: vec![Object::from(cm)],
    }
}
