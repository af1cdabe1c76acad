//! Network policy and mesh policy: deny everything, then allow exactly what the program
//! declares — one ingress and one egress rule per `calls` edge on the target's container
//! ports, the ingress controller to routed ports, `egress` destinations, DNS, and the
//! mesh control plane. Linkerd and Istio policies mirror the same call graph.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Object;
use super::crd::*;
use super::labels::{Cx, Edge};
use crate::check::model::{Egress, Mesh, Port, Protocol, Workload};

/// Address ranges that are not the public internet; egress to a host name is allowed to
/// every address but these.
pub const PRIVATE_RANGES: &[&str] = &[
    "10.0.0.0/8",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
];

/// Where each mesh's control plane runs and the ports its sidecars connect to.
fn control_plane(mesh: Mesh) -> Option<(&'static str, &'static [i32])> {
    match mesh {
        // identity, destination, policy
        Mesh::Linkerd => Some(("linkerd", &[8080, 8086, 8090])),
        // istiod: xDS and certificates
        Mesh::Istio => Some(("istio-system", &[15012])),
        Mesh::None => None,
    }
}

fn by_labels(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        ..LabelSelector::default()
    }
}

fn pods(cx: &Cx, name: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(by_labels(cx.selector(name))),
        ..NetworkPolicyPeer::default()
    }
}

fn namespace(name: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(by_labels(BTreeMap::from([(
            "kubernetes.io/metadata.name".to_string(),
            name.to_string(),
        )]))),
        ..NetworkPolicyPeer::default()
    }
}

fn port(number: i32, protocol: &str) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(number)),
        protocol: Some(protocol.into()),
        end_port: None,
    }
}

fn ports_of(ports: &[Port]) -> Vec<NetworkPolicyPort> {
    ports
        .iter()
        .map(|p| {
            port(
                i32::from(p.number),
                if p.protocol == Protocol::Udp {
                    "UDP"
                } else {
                    "TCP"
                },
            )
        })
        .collect()
}

fn policy(
    cx: &Cx,
    name: &str,
    owner: &str,
    component: &str,
    spec: NetworkPolicySpec,
) -> NetworkPolicy {
    NetworkPolicy {
        metadata: cx.meta(name, owner, component),
        spec: Some(spec),
    }
}

/// `default-deny`: no traffic in or out of any pod of the namespace unless allowed.
pub fn default_deny(cx: &Cx) -> NetworkPolicy {
    policy(
        cx,
        "default-deny",
        &cx.m.platform.name,
        "network",
        NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ..NetworkPolicySpec::default()
        },
    )
}

/// `allow-dns`: every pod may resolve names with the cluster DNS.
pub fn allow_dns(cx: &Cx) -> NetworkPolicy {
    let mut dns = namespace("kube-system");
    dns.pod_selector = Some(by_labels(BTreeMap::from([(
        "k8s-app".to_string(),
        "kube-dns".to_string(),
    )])));
    policy(
        cx,
        "allow-dns",
        &cx.m.platform.name,
        "network",
        NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![dns]),
                ports: Some(vec![port(53, "UDP"), port(53, "TCP")]),
            }]),
            ..NetworkPolicySpec::default()
        },
    )
}

fn edge_egress(cx: &Cx, e: &Edge) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to: Some(vec![pods(cx, e.to)]),
        ports: Some(ports_of(e.ports)),
    }
}

fn mesh_egress(cx: &Cx) -> Option<NetworkPolicyEgressRule> {
    let (ns, ports) = control_plane(cx.m.platform.mesh)?;
    Some(NetworkPolicyEgressRule {
        to: Some(vec![namespace(ns)]),
        ports: Some(ports.iter().map(|p| port(*p, "TCP")).collect()),
    })
}

/// The policy of one workload's pods.
pub fn workload_policy(cx: &Cx, w: &Workload) -> NetworkPolicy {
    let mut ingress: Vec<NetworkPolicyIngressRule> = cx
        .callers(&w.name)
        .map(|e| NetworkPolicyIngressRule {
            from: Some(vec![pods(cx, &e.from)]),
            ports: Some(ports_of(e.ports)),
        })
        .collect();
    let routed: Vec<Port> = cx.routed_ports(w).into_iter().cloned().collect();
    if !routed.is_empty() {
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![namespace(&cx.m.platform.ingress_from)]),
            ports: Some(ports_of(&routed)),
        });
    }
    let mut egress: Vec<NetworkPolicyEgressRule> =
        cx.callees(&w.name).map(|e| edge_egress(cx, e)).collect();
    for e in &w.egress {
        let (block, p) = match e {
            Egress::Cidr { network, port } => (
                IPBlock {
                    cidr: network.clone(),
                    except: None,
                },
                *port,
            ),
            Egress::Host { port, .. } => (
                IPBlock {
                    cidr: "0.0.0.0/0".into(),
                    except: Some(PRIVATE_RANGES.iter().map(|r| (*r).to_string()).collect()),
                },
                *port,
            ),
        };
        egress.push(NetworkPolicyEgressRule {
            to: Some(vec![NetworkPolicyPeer {
                ip_block: Some(block),
                ..NetworkPolicyPeer::default()
            }]),
            ports: Some(vec![port(i32::from(p), "TCP")]),
        });
    }
    egress.extend(mesh_egress(cx));
    policy(
        cx,
        &w.name,
        &w.name,
        w.kind.as_str(),
        NetworkPolicySpec {
            pod_selector: Some(by_labels(cx.selector(&w.name))),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        },
    )
}

/// The backup job's pods: out to their database only.
pub fn backup_policy(cx: &Cx, name: &str) -> NetworkPolicy {
    let mut egress: Vec<NetworkPolicyEgressRule> =
        cx.callees(name).map(|e| edge_egress(cx, e)).collect();
    egress.extend(mesh_egress(cx));
    policy(
        cx,
        name,
        name,
        "backup",
        NetworkPolicySpec {
            pod_selector: Some(by_labels(cx.selector(name))),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: None,
            egress: Some(egress),
        },
    )
}

fn custom<S>(
    cx: &Cx,
    api_version: &'static str,
    kind: &'static str,
    name: &str,
    owner: &str,
    component: &str,
    spec: S,
) -> Custom<S> {
    Custom {
        api_version,
        kind,
        metadata: cx.meta(name, owner, component),
        spec,
    }
}

/// The callers of one port of `w`: workloads (by service account) and, when routed, the
/// ingress controller's namespace.
fn port_clients<'a>(cx: &'a Cx, w: &'a Workload, port: &'a Port) -> (BTreeSet<String>, bool) {
    let accounts = cx
        .callers(&w.name)
        .filter(|e| e.ports.iter().any(|p| p.name == port.name))
        .map(|e| e.from.to_string())
        .collect();
    let routed = cx
        .routed
        .get(&w.name)
        .is_some_and(|ps| ps.contains(&port.name));
    (accounts, routed)
}

/// Linkerd: a Server per port, and an AuthorizationPolicy allowing exactly the callers'
/// identities (and the ingress controller for routed ports). Istio: one
/// AuthorizationPolicy per workload allowing exactly the callers' principals.
pub fn mesh_policies(cx: &Cx, w: &Workload) -> Vec<Object> {
    let component = w.kind.as_str();
    match cx.m.platform.mesh {
        Mesh::None => Vec::new(),
        Mesh::Linkerd => {
            let mut out = Vec::new();
            for p in w.ports.iter().filter(|p| p.protocol != Protocol::Udp) {
                let server = format!("{}-{}", w.name, p.name);
                out.push(Object::from(custom(
                    cx,
                    "policy.linkerd.io/v1beta3",
                    "Server",
                    &server,
                    &w.name,
                    component,
                    LinkerdServerSpec {
                        pod_selector: Selector {
                            match_labels: cx.selector(&w.name),
                        },
                        port: p.name.clone(),
                        proxy_protocol: match p.protocol {
                            Protocol::Http => "HTTP/1",
                            Protocol::Grpc => "gRPC",
                            _ => "opaque",
                        },
                    },
                )));
                let (accounts, routed) = port_clients(cx, w, p);
                if accounts.is_empty() && !routed {
                    continue;
                }
                let mut identity_refs: Vec<IdentityRef> = accounts
                    .into_iter()
                    .map(|a| IdentityRef {
                        kind: "ServiceAccount",
                        name: a,
                        namespace: None,
                    })
                    .collect();
                if routed {
                    identity_refs.push(IdentityRef {
                        kind: "Namespace",
                        name: cx.m.platform.ingress_from.clone(),
                        namespace: None,
                    });
                }
                let auth = format!("{server}-clients");
                out.push(Object::from(custom(
                    cx,
                    "policy.linkerd.io/v1alpha1",
                    "MeshTLSAuthentication",
                    &auth,
                    &w.name,
                    component,
                    MeshTlsAuthenticationSpec { identity_refs },
                )));
                out.push(Object::from(custom(
                    cx,
                    "policy.linkerd.io/v1alpha1",
                    "AuthorizationPolicy",
                    &server,
                    &w.name,
                    component,
                    AuthorizationPolicySpec {
                        target_ref: TargetRef {
                            group: "policy.linkerd.io",
                            kind: "Server",
                            name: server.clone(),
                        },
                        required_authentication_refs: vec![TargetRef {
                            group: "policy.linkerd.io",
                            kind: "MeshTLSAuthentication",
                            name: auth,
                        }],
                    },
                )));
            }
            out
        }
        Mesh::Istio => {
            let mut rules = Vec::new();
            for e in cx.callers(&w.name) {
                rules.push(IstioRule {
                    from: vec![IstioFrom {
                        source: IstioSource {
                            principals: vec![format!("cluster.local/ns/{}/sa/{}", cx.ns, e.from)],
                            namespaces: Vec::new(),
                        },
                    }],
                    to: vec![IstioTo {
                        operation: IstioOperation {
                            ports: e.ports.iter().map(|p| p.number.to_string()).collect(),
                        },
                    }],
                });
            }
            let routed = cx.routed_ports(w);
            if !routed.is_empty() {
                rules.push(IstioRule {
                    from: vec![IstioFrom {
                        source: IstioSource {
                            principals: Vec::new(),
                            namespaces: vec![cx.m.platform.ingress_from.clone()],
                        },
                    }],
                    to: vec![IstioTo {
                        operation: IstioOperation {
                            ports: routed.iter().map(|p| p.number.to_string()).collect(),
                        },
                    }],
                });
            }
            vec![Object::from(custom(
                cx,
                "security.istio.io/v1",
                "AuthorizationPolicy",
                &w.name,
                &w.name,
                component,
                IstioAuthorizationSpec {
                    selector: Selector {
                        match_labels: cx.selector(&w.name),
                    },
                    action: "ALLOW",
                    rules,
                },
            ))]
        }
    }
}

/// Istio: mutual TLS required for every workload of the namespace.
pub fn peer_authentication(cx: &Cx) -> Option<Object> {
    (cx.m.platform.mesh == Mesh::Istio).then(|| {
        Object::from(Custom {
            api_version: "security.istio.io/v1",
            kind: "PeerAuthentication",
            metadata: ObjectMeta {
                name: Some("default".into()),
                namespace: Some(cx.ns.clone()),
                labels: Some(cx.labels(&cx.m.platform.name, "mesh")),
                ..ObjectMeta::default()
            },
            spec: PeerAuthenticationSpec {
                mtls: Mtls { mode: "STRICT" },
            },
        })
    })
}
