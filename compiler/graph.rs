//! `sorchac graph`: the traffic topology of an environment — gateways and their routes,
//! services, databases, jobs and external egress — each edge labelled with its port and
//! coloured by protocol. As Graphviz DOT, Mermaid, or SVG (laid out by layout-rs).

use std::fmt::Write as _;

use crate::check::Model;
use crate::check::model::{Egress, Protocol};
use crate::schema::Kind;

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Gateway,
    Service,
    Database,
    Job,
    External,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub id: String,
    pub label: String,
    pub kind: NodeKind,
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    pub protocol: Protocol,
}

#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

fn id(prefix: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{clean}")
}

/// The topology of one environment's model.
pub fn of(m: &Model) -> Graph {
    let mut g = Graph::default();
    for gw in &m.gateways {
        g.nodes.push(Node {
            id: id("gw", &gw.name),
            label: format!("{}\n{}", gw.name, gw.host),
            kind: NodeKind::Gateway,
        });
        for r in &gw.routes {
            let protocol = m
                .workload(&r.target)
                .and_then(|w| w.port(&r.port))
                .map_or(Protocol::Http, |p| p.protocol);
            g.edges.push(Edge {
                from: id("gw", &gw.name),
                to: id("w", &r.target),
                label: format!("{} → {}", r.path, r.port),
                protocol,
            });
        }
    }
    let mut externals: Vec<String> = Vec::new();
    for w in &m.workloads {
        g.nodes.push(Node {
            id: id("w", &w.name),
            label: w.name.clone(),
            kind: match w.kind {
                Kind::Database => NodeKind::Database,
                Kind::Job => NodeKind::Job,
                _ => NodeKind::Service,
            },
        });
        for c in &w.calls {
            let Some(target) = m.workload(&c.target) else {
                continue;
            };
            let ports: Vec<_> = match &c.port {
                Some(p) => target.port(p).into_iter().collect(),
                None => target.ports.iter().collect(),
            };
            let label = ports
                .iter()
                .map(|p| format!("{} {}", p.name, p.number))
                .collect::<Vec<_>>()
                .join(", ");
            g.edges.push(Edge {
                from: id("w", &w.name),
                to: id("w", &target.name),
                label,
                protocol: ports.first().map_or(Protocol::Tcp, |p| p.protocol),
            });
        }
        for e in &w.egress {
            let (name, port) = match e {
                Egress::Cidr { network, port } => (network.clone(), *port),
                Egress::Host { host, port } => (host.clone(), *port),
            };
            if !externals.contains(&name) {
                externals.push(name.clone());
                g.nodes.push(Node {
                    id: id("ext", &name),
                    label: name.clone(),
                    kind: NodeKind::External,
                });
            }
            g.edges.push(Edge {
                from: id("w", &w.name),
                to: id("ext", &name),
                label: port.to_string(),
                protocol: Protocol::Tcp,
            });
        }
    }
    g
}

fn color(p: Protocol) -> &'static str {
    match p {
        Protocol::Http => "#1f6feb",
        Protocol::Grpc => "#8250df",
        Protocol::Tcp | Protocol::Udp => "#57606a",
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Graphviz DOT.
pub fn dot(g: &Graph) -> String {
    let mut out = String::from(
        "digraph platform {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for n in &g.nodes {
        let shape = match n.kind {
            NodeKind::Gateway => "house",
            NodeKind::Service => "box",
            NodeKind::Database => "cylinder",
            NodeKind::Job => "component",
            NodeKind::External => "ellipse",
        };
        let _ = writeln!(
            out,
            "  {} [label=\"{}\", shape={shape}];",
            n.id,
            dot_escape(&n.label)
        );
    }
    for e in &g.edges {
        let _ = writeln!(
            out,
            "  {} -> {} [label=\"{}\", color=\"{}\", fontcolor=\"{}\"];",
            e.from,
            e.to,
            dot_escape(&e.label),
            color(e.protocol),
            color(e.protocol)
        );
    }
    out.push_str("}\n");
    out
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;").replace('\n', "<br/>")
}

/// Mermaid flowchart.
pub fn mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    for n in &g.nodes {
        let l = mermaid_escape(&n.label);
        let shape = match n.kind {
            NodeKind::Gateway => format!("{}{{{{\"{l}\"}}}}", n.id),
            NodeKind::Service => format!("{}[\"{l}\"]", n.id),
            NodeKind::Database => format!("{}[(\"{l}\")]", n.id),
            NodeKind::Job => format!("{}[[\"{l}\"]]", n.id),
            NodeKind::External => format!("{}((\"{l}\"))", n.id),
        };
        let _ = writeln!(out, "  {shape}");
    }
    for e in &g.edges {
        let _ = writeln!(
            out,
            "  {} -->|\"{}\"| {}",
            e.from,
            mermaid_escape(&e.label),
            e.to
        );
    }
    for (i, e) in g.edges.iter().enumerate() {
        let _ = writeln!(out, "  linkStyle {i} stroke:{}", color(e.protocol));
    }
    out
}

/// SVG, laid out by layout-rs from the DOT text.
pub fn svg(g: &Graph) -> Result<String, String> {
    let text = dot(g);
    std::panic::catch_unwind(move || {
        let mut parser = layout::gv::DotParser::new(&text);
        let graph = parser.process().map_err(|e| format!("{e:?}"))?;
        let mut builder = layout::gv::GraphBuilder::new();
        builder.visit_graph(&graph);
        let mut vg = builder.get();
        let mut svg = layout::backends::svg::SVGWriter::new();
        vg.do_it(false, false, false, &mut svg);
        Ok(svg.finalize())
    })
    .unwrap_or_else(|_| Err("the layout of the graph failed".into()))
}
