//! Gateways: an Ingress (networking.k8s.io/v1) per group of routes that share their
//! controller settings, or a Gateway and an HTTPRoute (gateway.networking.k8s.io/v1).
//! TLS comes from a cert-manager issuer or an existing secret.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use super::crd::*;
use super::labels::Cx;
use super::{Group, Object, Origin};
use crate::check::model::{Gateway, GatewayApi, Protocol, Route, Tls};

/// The secret that holds a gateway's certificate.
pub fn tls_secret(g: &Gateway) -> Option<String> {
    match &g.tls {
        Some(Tls::Issuer(_)) => Some(format!("{}-tls", g.name)),
        Some(Tls::Secret(s)) => Some(s.clone()),
        None => None,
    }
}

fn issuer_annotations(g: &Gateway) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    if let Some(Tls::Issuer(i)) = &g.tls {
        a.insert("cert-manager.io/cluster-issuer".to_string(), i.clone());
    }
    a
}

pub fn group(cx: &Cx, g: &Gateway) -> Group {
    let objects = match g.api {
        GatewayApi::Ingress => ingresses(cx, g),
        GatewayApi::GatewayApi => gateway_api(cx, g),
    };
    Group {
        file: format!("gateway-{}.yaml", g.name),
        origin: Origin::Decl(g.name.clone()),
        comment: Vec::new(),
        objects,
    }
}

/// Whether a route's target port speaks gRPC.
fn is_grpc(cx: &Cx, r: &Route) -> bool {
    cx.m.workload(&r.target)
        .and_then(|w| w.port(&r.port))
        .is_some_and(|p| p.protocol == Protocol::Grpc)
}

/// Controller settings that apply to a whole Ingress: the route timeout and the backend
/// protocol. Routes that differ in them get an Ingress of their own.
fn controller_settings(cx: &Cx, g: &Gateway, r: &Route) -> BTreeMap<String, String> {
    let nginx = g.class.as_deref().is_none_or(|c| c == "nginx");
    let mut a = BTreeMap::new();
    if !nginx {
        return a;
    }
    if let Some(t) = r.timeout {
        a.insert(
            "nginx.ingress.kubernetes.io/proxy-read-timeout".to_string(),
            t.to_string(),
        );
        a.insert(
            "nginx.ingress.kubernetes.io/proxy-send-timeout".to_string(),
            t.to_string(),
        );
    }
    if is_grpc(cx, r) {
        a.insert(
            "nginx.ingress.kubernetes.io/backend-protocol".to_string(),
            "GRPC".to_string(),
        );
    }
    a
}

fn ingresses(cx: &Cx, g: &Gateway) -> Vec<Object> {
    // Routes grouped by their controller settings, in the order the groups first appear.
    let mut groups: Vec<(BTreeMap<String, String>, Vec<&Route>)> = Vec::new();
    for r in &g.routes {
        let settings = controller_settings(cx, g, r);
        match groups.iter_mut().find(|(s, _)| *s == settings) {
            Some((_, routes)) => routes.push(r),
            None => groups.push((settings, vec![r])),
        }
    }
    let tls = tls_secret(g);
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (settings, routes))| {
            let name = if i == 0 {
                g.name.clone()
            } else {
                format!("{}-{}", g.name, i + 1)
            };
            let mut annotations = issuer_annotations(g);
            annotations.extend(settings);
            let mut meta = cx.meta(&name, &g.name, "gateway");
            meta.annotations = (!annotations.is_empty()).then_some(annotations);
            let paths = routes
                .iter()
                .map(|r| HTTPIngressPath {
                    path: Some(r.path.clone()),
                    path_type: "Prefix".into(),
                    backend: IngressBackend {
                        service: Some(IngressServiceBackend {
                            name: r.target.clone(),
                            port: Some(ServiceBackendPort {
                                name: Some(r.port.clone()),
                                number: None,
                            }),
                        }),
                        resource: None,
                    },
                })
                .collect();
            Object::from(Ingress {
                metadata: meta,
                spec: Some(IngressSpec {
                    ingress_class_name: g.class.clone(),
                    tls: tls.as_ref().map(|secret| {
                        vec![IngressTLS {
                            hosts: Some(vec![g.host.clone()]),
                            secret_name: Some(secret.clone()),
                        }]
                    }),
                    rules: Some(vec![IngressRule {
                        host: Some(g.host.clone()),
                        http: Some(HTTPIngressRuleValue { paths }),
                    }]),
                    ..IngressSpec::default()
                }),
                ..Ingress::default()
            })
        })
        .collect()
}

fn gateway_api(cx: &Cx, g: &Gateway) -> Vec<Object> {
    let tls = tls_secret(g);
    let listener = match &tls {
        Some(secret) => Listener {
            name: "https".into(),
            protocol: "HTTPS",
            port: 443,
            hostname: g.host.clone(),
            tls: Some(ListenerTls {
                mode: "Terminate",
                certificate_refs: vec![CertificateRef {
                    kind: "Secret",
                    name: secret.clone(),
                }],
            }),
            allowed_routes: AllowedRoutes {
                namespaces: RouteNamespaces { from: "Same" },
            },
        },
        None => Listener {
            name: "http".into(),
            protocol: "HTTP",
            port: 80,
            hostname: g.host.clone(),
            tls: None,
            allowed_routes: AllowedRoutes {
                namespaces: RouteNamespaces { from: "Same" },
            },
        },
    };
    let section = listener.name.clone();
    let annotations = issuer_annotations(g);
    let mut gw_meta = cx.meta(&g.name, &g.name, "gateway");
    gw_meta.annotations = (!annotations.is_empty()).then_some(annotations);
    let gateway = Custom {
        api_version: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        metadata: gw_meta,
        spec: GatewaySpec {
            gateway_class_name: g.class.clone(),
            listeners: vec![listener],
        },
    };
    let rules = g
        .routes
        .iter()
        .map(|r| HttpRouteRule {
            matches: vec![HttpRouteMatch {
                path: PathMatch {
                    kind: "PathPrefix",
                    value: r.path.clone(),
                },
            }],
            backend_refs: vec![BackendRef {
                name: r.target.clone(),
                port: cx
                    .m
                    .workload(&r.target)
                    .and_then(|w| w.port(&r.port))
                    .map_or(0, |p| i32::from(p.service_port())),
            }],
            timeouts: r.timeout.map(|t| RouteTimeouts {
                request: crate::check::value::go_duration(t * 1000),
            }),
        })
        .collect();
    let route = Custom {
        api_version: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: cx.meta(&g.name, &g.name, "gateway"),
        spec: HttpRouteSpec {
            parent_refs: vec![ParentRef {
                name: g.name.clone(),
                section_name: section,
            }],
            hostnames: vec![g.host.clone()],
            rules,
        },
    };
    vec![Object::from(gateway), Object::from(route)]
}
