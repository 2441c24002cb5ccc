//! The node tree of one glTF scene: checks that it is a forest (no node with
//! two parents, no loops) and lists its nodes parents-first, so flattening to
//! world space is one pass with no recursion (a hostile file may nest nodes
//! a million deep).

use glam::{Mat4, Quat, Vec3};

use super::SceneError;

/// A node's transform relative to its parent.
#[derive(Clone, Copy, Debug)]
pub(super) enum Local {
    Trs { translation: Vec3, rotation: Quat, scale: Vec3 },
    Matrix(Mat4),
}

impl Local {
    pub fn matrix(&self) -> Mat4 {
        match *self {
            Local::Trs { translation, rotation, scale } => {
                Mat4::from_scale_rotation_translation(scale, rotation, translation)
            }
            Local::Matrix(m) => m,
        }
    }

    /// As TRS, for animation: glTF requires animated nodes to use TRS, but
    /// a matrix is decomposed rather than refused.
    pub fn trs(&self) -> (Vec3, Quat, Vec3) {
        match *self {
            Local::Trs { translation, rotation, scale } => (translation, rotation, scale),
            Local::Matrix(m) => {
                let (s, r, t) = m.to_scale_rotation_translation();
                (t, r, s)
            }
        }
    }
}

/// Reads and checks a node's static transform: finite, non-zero rotation.
pub(super) fn local_transform(node: &gltf::Node) -> Result<Local, SceneError> {
    let fail = |problem: String| SceneError::Transform { node: node.index(), problem };
    match node.transform() {
        gltf::scene::Transform::Matrix { matrix } => {
            let m = Mat4::from_cols_array_2d(&matrix);
            if !m.is_finite() {
                return Err(fail("its matrix has a NaN or infinite element".into()));
            }
            Ok(Local::Matrix(m))
        }
        gltf::scene::Transform::Decomposed { translation, rotation, scale } => {
            let (t, r, s) =
                (Vec3::from(translation), Quat::from_array(rotation), Vec3::from(scale));
            if !t.is_finite() || !r.is_finite() || !s.is_finite() {
                return Err(fail(
                    "its translation, rotation or scale has a NaN or infinite element".into(),
                ));
            }
            if r.length_squared() < 1e-12 {
                return Err(fail("its rotation is a zero quaternion".into()));
            }
            Ok(Local::Trs { translation: t, rotation: r.normalize(), scale: s })
        }
    }
}

/// The scene's nodes, parents before children, each with its parent's
/// position in this list (`None` for roots).
pub(super) fn scene_order(
    doc: &gltf::Document,
    scene: &gltf::Scene,
) -> Result<Vec<(usize, Option<usize>)>, SceneError> {
    let n = doc.nodes().len();
    let mut parent: Vec<Option<usize>> = vec![None; n];
    for node in doc.nodes() {
        for child in node.children() {
            let (p, c) = (node.index(), child.index());
            if c == p {
                return Err(SceneError::Hierarchy {
                    node: p,
                    problem: "lists itself as its own child (a loop)".into(),
                });
            }
            if let Some(other) = parent[c] {
                return Err(SceneError::Hierarchy {
                    node: c,
                    problem: format!(
                        "has two parents, nodes {other} and {p}; a node may have only one"
                    ),
                });
            }
            parent[c] = Some(p);
        }
    }
    // Walk up from every node; a walk that meets itself is a loop. Nodes
    // known to reach a root are marked so each node is walked once.
    const UNSEEN: usize = usize::MAX;
    const REACHES_ROOT: usize = usize::MAX - 1;
    let mut mark = vec![UNSEEN; n];
    for start in 0..n {
        let mut at = start;
        loop {
            if mark[at] == REACHES_ROOT {
                break;
            }
            if mark[at] == start {
                return Err(SceneError::Hierarchy {
                    node: at,
                    problem: format!(
                        "is its own ancestor: the node hierarchy loops (found from node {start})"
                    ),
                });
            }
            mark[at] = start;
            match parent[at] {
                Some(p) => at = p,
                None => break,
            }
        }
        let mut at = start;
        while mark[at] != REACHES_ROOT {
            mark[at] = REACHES_ROOT;
            match parent[at] {
                Some(p) => at = p,
                None => break,
            }
        }
    }

    let nodes: Vec<gltf::Node> = doc.nodes().collect();
    let mut order = Vec::new();
    let mut visited = vec![false; n];
    let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
    for root in scene.nodes() {
        let r = root.index();
        if let Some(p) = parent[r] {
            return Err(SceneError::Hierarchy {
                node: r,
                problem: format!(
                    "is a root of scene {} but also a child of node {p}",
                    scene.index()
                ),
            });
        }
        stack.push((r, None));
        while let Some((node, parent_slot)) = stack.pop() {
            if visited[node] {
                return Err(SceneError::Hierarchy {
                    node,
                    problem: format!("is listed more than once in scene {}", scene.index()),
                });
            }
            visited[node] = true;
            let slot = order.len();
            order.push((node, parent_slot));
            let children: Vec<usize> = nodes[node].children().map(|c| c.index()).collect();
            stack.extend(children.into_iter().rev().map(|c| (c, Some(slot))));
        }
    }
    Ok(order)
}
