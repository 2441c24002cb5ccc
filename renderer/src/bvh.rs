//! Rays, and the bounding volume hierarchy that finds what they hit.
//!
//! A binned-SAH BVH (16 bins per axis), flattened depth-first into 32-byte
//! nodes: an interior node's left child is the next node, its right child is
//! stored. Leaves hold at most [`MAX_LEAF`] triangles, copied in leaf order
//! into a compact array of precomputed vertex/edge data for Möller–Trumbore.
//! It is rebuilt every frame (animation moves things), so the build is
//! O(n log n) with no per-node allocation. It never looks at materials.

use glam::{Vec3, Vec3A};

use crate::scene;

/// A ray with a unit (or at least non-zero) direction.
#[derive(Clone, Copy, Debug)]
pub struct Ray {
    pub origin: Vec3A,
    pub dir: Vec3A,
}

impl Ray {
    #[inline]
    pub fn new(origin: Vec3A, dir: Vec3A) -> Self {
        Self { origin, dir }
    }

    #[inline]
    pub fn at(&self, t: f32) -> Vec3A {
        self.origin + self.dir * t
    }
}

/// The closest hit along a ray.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub t: f32,
    /// Barycentric weight of the triangle's second vertex.
    pub u: f32,
    /// Barycentric weight of the triangle's third vertex.
    pub v: f32,
    /// Index of the triangle in the slice the BVH was built from.
    pub triangle: u32,
}

/// Most triangles in one leaf.
pub const MAX_LEAF: usize = 8;
const BINS: usize = 16;
/// Past this depth the builder splits at the object median, which bounds the
/// tree depth (and so the traversal stack) for any input.
const MEDIAN_SPLIT_DEPTH: u32 = 32;
const STACK_SIZE: usize = 64;
/// SAH cost of one traversal step relative to one triangle test.
const TRAVERSAL_COST: f32 = 1.0;

#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
struct Node {
    min: [f32; 3],
    /// Leaf: first triangle; interior: index of the right child.
    left_or_first: u32,
    max: [f32; 3],
    /// Leaf: number of triangles (>= 1); interior: 0.
    count: u32,
}

/// One triangle as the intersection test wants it.
#[derive(Clone, Copy, Debug)]
struct TriAccel {
    v0: Vec3A,
    e1: Vec3A,
    e2: Vec3A,
}

#[derive(Clone, Debug, Default)]
pub struct Bvh {
    nodes: Vec<Node>,
    triangles: Vec<TriAccel>,
    /// Original index of each triangle in leaf order.
    ids: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Aabb {
    min: Vec3A,
    max: Vec3A,
}

impl Aabb {
    const EMPTY: Aabb =
        Aabb { min: Vec3A::splat(f32::INFINITY), max: Vec3A::splat(f32::NEG_INFINITY) };

    #[inline]
    fn grow(&mut self, other: &Aabb) {
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    #[inline]
    fn grow_point(&mut self, p: Vec3A) {
        self.min = self.min.min(p);
        self.max = self.max.max(p);
    }

    #[inline]
    fn half_area(&self) -> f32 {
        let d = (self.max - self.min).max(Vec3A::ZERO);
        d.x * d.y + d.y * d.z + d.z * d.x
    }
}

#[derive(Clone, Copy)]
struct Bin {
    bounds: Aabb,
    count: u32,
}

struct Builder {
    bounds: Vec<Aabb>,
    centroids: Vec<Vec3A>,
    indices: Vec<u32>,
    nodes: Vec<Node>,
}

impl Bvh {
    /// Builds the hierarchy over the scene's triangles; [`Hit::triangle`]
    /// indexes `triangles`.
    pub fn new(triangles: &[scene::Triangle]) -> Self {
        Self::from_positions(triangles.iter().map(|t| t.positions))
    }

    /// Builds the hierarchy over triangles given by their three corners.
    pub fn from_positions(corners: impl ExactSizeIterator<Item = [Vec3; 3]>) -> Self {
        let n = corners.len();
        let mut accel = Vec::with_capacity(n);
        let mut bounds = Vec::with_capacity(n);
        let mut centroids = Vec::with_capacity(n);
        for [a, b, c] in corners {
            let (a, b, c) = (Vec3A::from(a), Vec3A::from(b), Vec3A::from(c));
            accel.push(TriAccel { v0: a, e1: b - a, e2: c - a });
            let bb = Aabb { min: a.min(b).min(c), max: a.max(b).max(c) };
            centroids.push((bb.min + bb.max) * 0.5);
            bounds.push(bb);
        }
        if n == 0 {
            return Self::default();
        }
        let mut builder = Builder {
            bounds,
            centroids,
            indices: (0..n as u32).collect(),
            nodes: Vec::with_capacity(2 * n),
        };
        builder.build(0, n, 0);
        let ids = builder.indices;
        let triangles = ids.iter().map(|&i| accel[i as usize]).collect();
        Self { nodes: builder.nodes, triangles, ids }
    }

    /// The world bounds of everything, `None` when there is nothing.
    pub fn bounds(&self) -> Option<(Vec3, Vec3)> {
        self.nodes.first().map(|n| (Vec3::from(n.min), Vec3::from(n.max)))
    }

    /// The nodes as the GPU reads them: min, left-or-first, max, count (the
    /// in-memory layout, 32 bytes).
    pub(crate) fn gpu_nodes(&self) -> Vec<[u32; 8]> {
        self.nodes
            .iter()
            .map(|n| {
                let b = |f: f32| f.to_bits();
                [
                    b(n.min[0]),
                    b(n.min[1]),
                    b(n.min[2]),
                    n.left_or_first,
                    b(n.max[0]),
                    b(n.max[1]),
                    b(n.max[2]),
                    n.count,
                ]
            })
            .collect()
    }

    /// Per triangle in leaf order: v0, e1, e2 (w unused).
    pub(crate) fn gpu_triangles(&self) -> Vec<[f32; 4]> {
        self.triangles
            .iter()
            .flat_map(|t| [t.v0, t.e1, t.e2].map(|v| v.extend(0.0).to_array()))
            .collect()
    }

    /// The scene index of each triangle in leaf order.
    pub(crate) fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Number of nodes, for diagnostics.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The closest hit with `0 < t < t_max`.
    pub fn intersect(&self, ray: &Ray, t_max: f32) -> Option<Hit> {
        let mut best_t = t_max;
        let mut best: Option<(u32, f32, f32)> = None;
        self.traverse(ray, &mut best_t, |tri_index, tri, best_t| {
            if let Some((t, u, v)) = tri.intersect(ray, *best_t) {
                *best_t = t;
                best = Some((tri_index, u, v));
            }
            false
        });
        best.map(|(i, u, v)| Hit { t: best_t, u, v, triangle: self.ids[i as usize] })
    }

    /// Whether anything lies on the ray with `0 < t < t_max` (shadow rays).
    pub fn occluded(&self, ray: &Ray, t_max: f32) -> bool {
        let mut t = t_max;
        let mut hit = false;
        self.traverse(ray, &mut t, |_, tri, t_max| {
            hit = tri.intersect(ray, *t_max).is_some();
            hit
        });
        hit
    }

    /// Visits the leaves the ray may reach, near child first, calling
    /// `visit` per triangle until it returns true (stop).
    #[inline]
    fn traverse(
        &self,
        ray: &Ray,
        t_max: &mut f32,
        mut visit: impl FnMut(u32, &TriAccel, &mut f32) -> bool,
    ) {
        if self.nodes.is_empty() {
            return;
        }
        let inv_dir = Vec3A::select(
            ray.dir.abs().cmpgt(Vec3A::splat(1e-30)),
            ray.dir.recip(),
            Vec3A::splat(1e30).copysign(ray.dir),
        );
        let origin_scaled = ray.origin * inv_dir;
        let slab = |node: &Node, t_max: f32| -> f32 {
            let t0 = Vec3A::from_array(node.min) * inv_dir - origin_scaled;
            let t1 = Vec3A::from_array(node.max) * inv_dir - origin_scaled;
            let near = t0.min(t1).max_element().max(0.0);
            let far = t0.max(t1).min_element().min(t_max);
            if near <= far {
                near
            } else {
                f32::INFINITY
            }
        };
        if slab(&self.nodes[0], *t_max) == f32::INFINITY {
            return;
        }
        let mut stack = [0u32; STACK_SIZE];
        let mut sp = 0usize;
        let mut index = 0usize;
        loop {
            let node = &self.nodes[index];
            if node.count > 0 {
                let first = node.left_or_first;
                for i in first..first + node.count {
                    if visit(i, &self.triangles[i as usize], t_max) {
                        return;
                    }
                }
                if sp == 0 {
                    return;
                }
                sp -= 1;
                index = stack[sp] as usize;
                continue;
            }
            let (mut near, mut far) = (index + 1, node.left_or_first as usize);
            let mut d_near = slab(&self.nodes[near], *t_max);
            let mut d_far = slab(&self.nodes[far], *t_max);
            if d_far < d_near {
                std::mem::swap(&mut near, &mut far);
                std::mem::swap(&mut d_near, &mut d_far);
            }
            if d_near == f32::INFINITY {
                if sp == 0 {
                    return;
                }
                sp -= 1;
                index = stack[sp] as usize;
            } else {
                index = near;
                if d_far != f32::INFINITY {
                    stack[sp] = far as u32;
                    sp += 1;
                }
            }
        }
    }
}

impl TriAccel {
    /// Möller–Trumbore; returns (t, u, v) for hits with 0 < t < t_max. Both
    /// faces hit. Written so NaNs (degenerate triangles) reject.
    #[inline]
    fn intersect(&self, ray: &Ray, t_max: f32) -> Option<(f32, f32, f32)> {
        let p = ray.dir.cross(self.e2);
        let det = self.e1.dot(p);
        let inv_det = 1.0 / det;
        let s = ray.origin - self.v0;
        let u = s.dot(p) * inv_det;
        if !(0.0..=1.0).contains(&u) {
            return None;
        }
        let q = s.cross(self.e1);
        let v = ray.dir.dot(q) * inv_det;
        if !(v >= 0.0 && u + v <= 1.0) {
            return None;
        }
        let t = self.e2.dot(q) * inv_det;
        if t > 0.0 && t < t_max {
            Some((t, u, v))
        } else {
            None
        }
    }
}

impl Builder {
    fn make_leaf(&mut self, index: usize, bounds: &Aabb, start: usize, end: usize) {
        self.nodes[index] = Node {
            min: bounds.min.to_array(),
            left_or_first: start as u32,
            max: bounds.max.to_array(),
            count: (end - start) as u32,
        };
    }

    /// Builds the subtree over `indices[start..end]` and returns its node.
    fn build(&mut self, start: usize, end: usize, depth: u32) {
        let index = self.nodes.len();
        self.nodes.push(Node::default());
        let mut bounds = Aabb::EMPTY;
        let mut centroid_bounds = Aabb::EMPTY;
        for &i in &self.indices[start..end] {
            bounds.grow(&self.bounds[i as usize]);
            centroid_bounds.grow_point(self.centroids[i as usize]);
        }
        let count = end - start;
        if count <= 2 {
            self.make_leaf(index, &bounds, start, end);
            return;
        }
        let extent = centroid_bounds.max - centroid_bounds.min;
        let mut mid = None;
        if depth < MEDIAN_SPLIT_DEPTH && extent.max_element() > 0.0 {
            if let Some((axis, split_bin, cost)) = self.best_split(start, end, &centroid_bounds) {
                let leaf_cost = count as f32;
                let split_cost = TRAVERSAL_COST + cost / bounds.half_area().max(f32::MIN_POSITIVE);
                if split_cost >= leaf_cost && count <= MAX_LEAF {
                    self.make_leaf(index, &bounds, start, end);
                    return;
                }
                let cmin = centroid_bounds.min[axis];
                let scale = BINS as f32 / extent[axis];
                let centroids = &self.centroids;
                let m = partition(&mut self.indices[start..end], |&i| {
                    bin_of(centroids[i as usize][axis], cmin, scale) < split_bin
                });
                if m > 0 && m < count {
                    mid = Some(start + m);
                }
            }
        }
        let mid = match mid {
            Some(m) => m,
            None if count <= MAX_LEAF => {
                self.make_leaf(index, &bounds, start, end);
                return;
            }
            None => {
                // Object median along the widest centroid axis.
                let axis = if extent.x >= extent.y && extent.x >= extent.z {
                    0
                } else if extent.y >= extent.z {
                    1
                } else {
                    2
                };
                let centroids = &self.centroids;
                let half = count / 2;
                self.indices[start..end].select_nth_unstable_by(half, |&a, &b| {
                    centroids[a as usize][axis].total_cmp(&centroids[b as usize][axis])
                });
                start + half
            }
        };
        self.build(start, mid, depth + 1);
        let right = self.nodes.len() as u32;
        self.build(mid, end, depth + 1);
        self.nodes[index] = Node {
            min: bounds.min.to_array(),
            left_or_first: right,
            max: bounds.max.to_array(),
            count: 0,
        };
    }

    /// The cheapest binned split: (axis, first bin on the right, SAH cost
    /// as sum of child half-area * count).
    fn best_split(&self, start: usize, end: usize, cb: &Aabb) -> Option<(usize, usize, f32)> {
        let extent = cb.max - cb.min;
        let mut best: Option<(usize, usize, f32)> = None;
        for axis in 0..3 {
            if extent[axis] <= 0.0 {
                continue;
            }
            let mut bins = [Bin { bounds: Aabb::EMPTY, count: 0 }; BINS];
            let cmin = cb.min[axis];
            let scale = BINS as f32 / extent[axis];
            for &i in &self.indices[start..end] {
                let b = bin_of(self.centroids[i as usize][axis], cmin, scale);
                bins[b].count += 1;
                bins[b].bounds.grow(&self.bounds[i as usize]);
            }
            // left_cost[k]: cost of bins[..=k]; right sweep adds bins[k+1..].
            let mut left_cost = [0.0f32; BINS - 1];
            let mut acc = Aabb::EMPTY;
            let mut n = 0u32;
            for k in 0..BINS - 1 {
                acc.grow(&bins[k].bounds);
                n += bins[k].count;
                left_cost[k] = if n > 0 { acc.half_area() * n as f32 } else { 0.0 };
            }
            let mut acc = Aabb::EMPTY;
            let mut n = 0u32;
            for k in (1..BINS).rev() {
                acc.grow(&bins[k].bounds);
                n += bins[k].count;
                let right = if n > 0 { acc.half_area() * n as f32 } else { 0.0 };
                let cost = left_cost[k - 1] + right;
                if best.is_none_or(|(_, _, c)| cost < c) {
                    best = Some((axis, k, cost));
                }
            }
        }
        best
    }
}

#[inline]
fn bin_of(c: f32, cmin: f32, scale: f32) -> usize {
    (((c - cmin) * scale) as usize).min(BINS - 1)
}

/// In-place partition; returns the number of elements for which `pred` holds
/// (they end up first).
fn partition<T>(items: &mut [T], pred: impl Fn(&T) -> bool) -> usize {
    let mut first = 0;
    for i in 0..items.len() {
        if pred(&items[i]) {
            items.swap(first, i);
            first += 1;
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::Sampler;

    fn random_soup(n: usize, seed: u64) -> Vec<[Vec3; 3]> {
        let mut s = Sampler::new(seed, 0, 0, 0);
        let mut p = || Vec3::new(s.next_f32(), s.next_f32(), s.next_f32());
        (0..n)
            .map(|_| {
                let c = p() * 10.0 - 5.0;
                [c + (p() - 0.5), c + (p() - 0.5), c + (p() - 0.5)]
            })
            .collect()
    }

    fn brute_force(tris: &[[Vec3; 3]], ray: &Ray, t_max: f32) -> Option<(f32, u32)> {
        let mut best: Option<(f32, u32)> = None;
        for (i, &[a, b, c]) in tris.iter().enumerate() {
            let (a, b, c) = (Vec3A::from(a), Vec3A::from(b), Vec3A::from(c));
            let acc = TriAccel { v0: a, e1: b - a, e2: c - a };
            let limit = best.map_or(t_max, |b| b.0);
            if let Some((t, _, _)) = acc.intersect(ray, limit) {
                best = Some((t, i as u32));
            }
        }
        best
    }

    #[test]
    fn closest_hit_agrees_with_brute_force_on_random_rays() {
        let tris = random_soup(2000, 1);
        let bvh = Bvh::from_positions(tris.iter().copied());
        let mut s = Sampler::new(9, 0, 0, 0);
        let mut hits = 0;
        for _ in 0..2000 {
            let o = Vec3A::new(s.next_f32(), s.next_f32(), s.next_f32()) * 16.0 - 8.0;
            let target = Vec3A::new(s.next_f32(), s.next_f32(), s.next_f32()) * 8.0 - 4.0;
            let ray = Ray::new(o, (target - o).normalize());
            let expect = brute_force(&tris, &ray, f32::INFINITY);
            let got = bvh.intersect(&ray, f32::INFINITY);
            match (expect, got) {
                (None, None) => {}
                (Some((t, id)), Some(hit)) => {
                    hits += 1;
                    assert!((t - hit.t).abs() <= 1e-5 * t.max(1.0), "{t} vs {}", hit.t);
                    if hit.triangle != id {
                        // Only a tie may pick another triangle.
                        assert!((t - hit.t).abs() < 1e-6);
                    }
                }
                other => panic!("mismatch {other:?}"),
            }
            assert_eq!(bvh.occluded(&ray, f32::INFINITY), expect.is_some());
            if let Some((t, _)) = expect {
                assert!(
                    !bvh.occluded(&ray, t * 0.999) || brute_force(&tris, &ray, t * 0.999).is_some()
                );
            }
        }
        assert!(hits > 200, "too few hits to test anything: {hits}");
    }

    #[test]
    fn flat_and_coincident_geometry_builds_and_is_hit() {
        // 1000 copies of one triangle: no split separates them.
        let tri = [Vec3::ZERO, Vec3::X, Vec3::Y];
        let bvh = Bvh::from_positions(std::iter::repeat_n(tri, 1000));
        let ray = Ray::new(Vec3A::new(0.2, 0.2, 1.0), Vec3A::NEG_Z);
        let hit = bvh.intersect(&ray, f32::INFINITY).expect("hit");
        assert!((hit.t - 1.0).abs() < 1e-6);
        assert!((hit.u - 0.2).abs() < 1e-6 && (hit.v - 0.2).abs() < 1e-6);
        let miss = Ray::new(Vec3A::new(0.8, 0.8, 1.0), Vec3A::NEG_Z);
        assert!(bvh.intersect(&miss, f32::INFINITY).is_none());
    }

    #[test]
    fn empty_bvh_hits_nothing() {
        let bvh = Bvh::from_positions(std::iter::empty());
        let ray = Ray::new(Vec3A::ZERO, Vec3A::X);
        assert!(bvh.intersect(&ray, f32::INFINITY).is_none());
        assert!(!bvh.occluded(&ray, f32::INFINITY));
        assert!(bvh.bounds().is_none());
    }

    #[test]
    fn leaves_stay_small_and_every_triangle_is_referenced_once() {
        let tris = random_soup(5000, 3);
        let bvh = Bvh::from_positions(tris.iter().copied());
        let mut seen = vec![false; tris.len()];
        for n in &bvh.nodes {
            assert!(n.count as usize <= MAX_LEAF);
            for i in n.left_or_first..n.left_or_first + n.count {
                let id = bvh.ids[i as usize] as usize;
                assert!(!seen[id]);
                seen[id] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }
}
