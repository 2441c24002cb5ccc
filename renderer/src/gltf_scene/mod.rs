//! glTF 2.0 scenes in: reading, validation, animation sampling, and
//! flattening one instant to a [`Scene`] in world space.
//!
//! Scenes come from strangers, so [`SceneAsset::from_bytes`] checks
//! everything once (sizes, every accessor range, every index, finite
//! positions, the node tree, texture headers, the triangle budget) and never
//! panics or allocates past [`Limits`]; [`SceneAsset::instantiate`] then only
//! samples and transforms. `from_bytes` never touches the file system: only
//! [`pack_scene_file`] reads files, and only inside the scene's folder.
//!
//! What is read: the default scene (or scene 0); TRS or matrix node
//! transforms; perspective cameras (orthographic ones are refused when
//! selected); translation/rotation/scale animations (STEP, LINEAR,
//! CUBICSPLINE); triangle meshes (strips and fans too; points and lines are
//! skipped with a warning); PBR metallic-roughness materials with base
//! colour, metallic-roughness, normal and emissive textures (PNG, JPEG) and
//! KHR_materials_emissive_strength; KHR_lights_punctual.
//!
//! The sky: [`DEFAULT_SKY`], or the scene object's extras
//! `{"mosaic_sky": [r, g, b]}` (linear radiance, finite, non-negative).

mod animation;
mod buffers;
mod error;
mod glb;
mod hierarchy;
mod images;
mod materials;
mod mesh;
mod pack;
#[cfg(test)]
mod tests;

use glam::{Mat4, Quat, Vec3};

pub use error::SceneError;
pub use materials::TOTAL_PIXELS_FACTOR;
pub use pack::pack_scene_file;

use crate::scene::{Camera, LightKind, Material, PunctualLight, Scene, Texture, DEFAULT_SKY};
use animation::{Channel, Target};
use buffers::Buffers;
use hierarchy::Local;

/// Bounds on what one scene may cost; checked before the memory is spent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The scene file (GLB, or glTF JSON with data: URIs), in bytes.
    pub max_scene_bytes: u64,
    /// Pixels of one texture image (its header is checked before decoding);
    /// all textures together may have [`TOTAL_PIXELS_FACTOR`] times this.
    pub max_texture_pixels: u64,
    /// Triangles in the scene, counting each instance of a mesh.
    pub max_triangles: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_scene_bytes: 256 << 20,
            max_texture_pixels: 4096 * 4096,
            max_triangles: 20_000_000,
        }
    }
}

/// What a scene holds, for the submitter and the scheduler.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneSummary {
    /// Triangles rendered, counting each instance of a mesh.
    pub triangles: u64,
    /// The names [`SceneAsset::instantiate`] accepts, in node order; the
    /// first is the default camera.
    pub cameras: Vec<String>,
    pub lights: u32,
    /// The end of the longest animation; 0 for a still scene.
    pub animation_seconds: f32,
}

#[derive(Clone, Debug)]
enum Projection {
    Perspective { yfov: f32 },
    Orthographic,
}

/// A camera node of the scene.
#[derive(Clone, Debug)]
struct CameraNode {
    /// Position in `order`.
    slot: usize,
    node: usize,
    camera: usize,
    /// The node's name, else the camera's, else "camera N".
    name: String,
    /// The camera object's own name, also accepted when selecting.
    camera_name: Option<String>,
    projection: Projection,
}

#[derive(Clone, Debug)]
struct LightDef {
    kind: LightKind,
    color: Vec3,
    intensity: f32,
    range: Option<f32>,
}

/// A validated glTF scene, ready to be sampled at any time.
#[derive(Clone, Debug)]
pub struct SceneAsset {
    /// Scene nodes parents-first, with the parent's position in this list.
    order: Vec<(usize, Option<usize>)>,
    /// Static local transform of every node of the document.
    locals: Vec<Local>,
    /// Mesh per node of the document (index into `meshes`).
    node_mesh: Vec<Option<usize>>,
    /// Light per node of the document (index into `lights`).
    node_light: Vec<Option<usize>>,
    meshes: Vec<Option<mesh::Mesh>>,
    materials: Vec<Material>,
    /// Per material: it has a normal map, so meshes without tangents get
    /// tangents derived from their UVs.
    needs_tangents: Vec<bool>,
    textures: Vec<Texture>,
    lights: Vec<LightDef>,
    cameras: Vec<CameraNode>,
    channels: Vec<Channel>,
    sky: Vec3,
    summary: SceneSummary,
}

impl SceneAsset {
    /// A self-contained scene: GLB, or glTF JSON whose buffers and images are
    /// data: URIs. Any other URI is an error (uploads never reach the file
    /// system). Validates everything; see the module docs.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<SceneAsset, SceneError> {
        if bytes.len() as u64 > limits.max_scene_bytes {
            return Err(SceneError::TooLarge {
                bytes: bytes.len() as u64,
                limit: limits.max_scene_bytes,
            });
        }
        let (json, bin) = if glb::is_glb(bytes) {
            let glb = glb::parse(bytes)?;
            (glb.json, glb.bin)
        } else {
            (bytes, None)
        };
        let doc = parse_document(json)?;
        let buffers = Buffers::resolve(&doc, bin)?;

        let scene = doc
            .default_scene()
            .or_else(|| doc.scenes().next())
            .ok_or_else(|| SceneError::Invalid("the file has no scene".into()))?;
        let order = hierarchy::scene_order(&doc, &scene)?;
        let nodes: Vec<gltf::Node> = doc.nodes().collect();
        let locals = nodes.iter().map(hierarchy::local_transform).collect::<Result<Vec<_>, _>>()?;

        // The triangle budget, from accessor counts, before reading vertices.
        let mut triangles = 0u64;
        for &(node, _) in &order {
            if let Some(mesh) = nodes[node].mesh() {
                triangles = mesh
                    .primitives()
                    .map(|p| mesh::triangle_count(&p))
                    .fold(triangles, u64::saturating_add);
            }
        }
        if triangles > limits.max_triangles {
            return Err(SceneError::TooManyTriangles { triangles, limit: limits.max_triangles });
        }

        let (materials, textures) = materials::load(&doc, &buffers, limits)?;
        let default_material = (materials.len() - 1) as u32;
        let needs_tangents = materials.iter().map(|m| m.normal_texture.is_some()).collect();

        let mut meshes: Vec<Option<mesh::Mesh>> = vec![None; doc.meshes().len()];
        for &(node, _) in &order {
            if let Some(m) = nodes[node].mesh() {
                if meshes[m.index()].is_none() {
                    meshes[m.index()] = Some(mesh::load(&m, &buffers, limits, default_material)?);
                }
            }
        }
        let node_mesh = nodes.iter().map(|n| n.mesh().map(|m| m.index())).collect();

        let lights = load_lights(&doc)?;
        let node_light: Vec<Option<usize>> =
            nodes.iter().map(|n| n.light().map(|l| l.index())).collect();
        let cameras = load_cameras(&order, &nodes)?;
        if !cameras.iter().any(|c| matches!(c.projection, Projection::Perspective { .. })) {
            return Err(if cameras.is_empty() {
                SceneError::NoCamera
            } else {
                SceneError::Unsupported(
                    "the scene's cameras are all orthographic; add a perspective camera node"
                        .into(),
                )
            });
        }

        let channels = animation::load(&doc, &buffers, limits)?;
        let sky = scene_sky(&scene)?;
        let summary = SceneSummary {
            triangles,
            cameras: cameras.iter().map(|c| c.name.clone()).collect(),
            lights: order.iter().filter(|(n, _)| node_light[*n].is_some()).count() as u32,
            animation_seconds: channels.iter().map(Channel::end).fold(0.0, f32::max),
        };
        Ok(SceneAsset {
            order,
            locals,
            node_mesh,
            node_light,
            meshes,
            materials,
            needs_tangents,
            textures,
            lights,
            cameras,
            channels,
            sky,
            summary,
        })
    }

    pub fn summary(&self) -> SceneSummary {
        self.summary.clone()
    }

    /// Samples every animation at `time_seconds` and flattens to world space.
    /// `camera: None` = the first camera in the scene's node order; a name
    /// matches a camera node's name or its camera's name; unknown = error.
    pub fn instantiate(
        &self,
        time_seconds: f32,
        camera: Option<&str>,
    ) -> Result<Scene, SceneError> {
        let selected = match camera {
            None => &self.cameras[0],
            Some(name) => self
                .cameras
                .iter()
                .find(|c| c.name == name || c.camera_name.as_deref() == Some(name))
                .ok_or_else(|| SceneError::UnknownCamera {
                    name: name.into(),
                    available: self.summary.cameras.clone(),
                })?,
        };
        let Projection::Perspective { yfov } = selected.projection else {
            return Err(SceneError::Unsupported(format!(
                "camera {} ({:?}, node {}) is orthographic; only perspective cameras are rendered",
                selected.camera, selected.name, selected.node
            )));
        };

        let world = self.world_transforms(time_seconds)?;
        let to_world = rigid(world[selected.slot]).ok_or_else(|| SceneError::Transform {
            node: selected.node,
            problem: "the camera's transform has a zero scale".into(),
        })?;

        let mut triangles = Vec::with_capacity(self.summary.triangles as usize);
        let mut lights = Vec::new();
        let mut meshes = Vec::new();
        for (slot, &(node, _)) in self.order.iter().enumerate() {
            let m = world[slot];
            if let Some(Some(mesh)) = self.node_mesh[node].map(|i| &self.meshes[i]) {
                let first = triangles.len() as u32;
                let emitted = mesh.emit(m, &self.needs_tangents, &mut triangles);
                if triangles.len() as u32 > first {
                    meshes.push(first..triangles.len() as u32);
                }
                if !emitted {
                    return Err(SceneError::Transform {
                        node,
                        problem: format!("it places vertices at infinity at time {time_seconds}s"),
                    });
                }
            }
            if let Some(light) = self.node_light[node].map(|i| &self.lights[i]) {
                lights.push(place_light(light, m));
            }
        }
        Ok(Scene {
            triangles,
            materials: self.materials.clone(),
            textures: self.textures.clone(),
            lights,
            camera: Camera { name: Some(selected.name.clone()), to_world, yfov },
            sky: self.sky,
            meshes,
        })
    }

    /// World matrix of every node in `order`, with animations applied.
    fn world_transforms(&self, time: f32) -> Result<Vec<Mat4>, SceneError> {
        let mut animated: Vec<Option<(Vec3, Quat, Vec3)>> = vec![None; self.locals.len()];
        for channel in &self.channels {
            let trs = animated[channel.node].get_or_insert_with(|| self.locals[channel.node].trs());
            let v = channel.sample(time);
            match channel.target {
                Target::Translation => trs.0 = v.truncate(),
                Target::Scale => trs.2 = v.truncate(),
                Target::Rotation => {
                    let q = Quat::from_vec4(v);
                    let length = q.length();
                    trs.1 = match length.is_finite() && length > 1e-6 {
                        true => q / length,
                        false => {
                            tracing::warn!(
                                node = channel.node,
                                time,
                                "animated rotation is degenerate; using identity"
                            );
                            Quat::IDENTITY
                        }
                    }
                }
            }
        }
        let mut world = Vec::with_capacity(self.order.len());
        for &(node, parent) in &self.order {
            let local = match animated[node] {
                Some((t, r, s)) => Mat4::from_scale_rotation_translation(s, r, t),
                None => self.locals[node].matrix(),
            };
            let m = parent.map_or(local, |p| world[p] * local);
            if !m.is_finite() {
                return Err(SceneError::Transform {
                    node,
                    problem: format!("its world transform at time {time}s is not finite"),
                });
            }
            world.push(m);
        }
        Ok(world)
    }
}

/// Camera-to-world with scale (and shear) removed: an orthonormal frame that
/// keeps the camera's viewing direction (-Z) and its up (+Y) as close as it can.
fn rigid(m: Mat4) -> Option<Mat4> {
    let back = m.z_axis.truncate().try_normalize()?;
    let up = m.y_axis.truncate();
    let right = up.cross(back).try_normalize()?;
    let up = back.cross(right);
    Some(Mat4::from_cols(
        right.extend(0.0),
        up.extend(0.0),
        back.extend(0.0),
        m.w_axis.truncate().extend(1.0),
    ))
}

fn place_light(light: &LightDef, m: Mat4) -> PunctualLight {
    let position = m.transform_point3(Vec3::ZERO);
    // Lights point down their local -Z; a zero-scale node keeps -Z.
    let direction = m.transform_vector3(Vec3::NEG_Z).try_normalize().unwrap_or(Vec3::NEG_Z);
    let kind = match light.kind {
        LightKind::Directional { .. } => LightKind::Directional { direction },
        LightKind::Point { .. } => LightKind::Point { position },
        LightKind::Spot { inner_cone_angle, outer_cone_angle, .. } => {
            LightKind::Spot { position, direction, inner_cone_angle, outer_cone_angle }
        }
    };
    PunctualLight { kind, color: light.color, intensity: light.intensity, range: light.range }
}

/// JSON to a validated `gltf::Document`; schema problems listed by path.
fn parse_document(json: &[u8]) -> Result<gltf::Document, SceneError> {
    let root: gltf::json::Root = gltf::json::deserialize::from_slice(json)
        .map_err(|e| SceneError::NotGltf(e.to_string()))?;
    gltf::Document::from_json(root).map_err(|e| match e {
        gltf::Error::Validation(problems) => {
            let listed: Vec<String> =
                problems.iter().take(8).map(|(path, err)| format!("{path}: {err}")).collect();
            let more = problems.len().saturating_sub(8);
            let tail = if more > 0 { format!(" (and {more} more)") } else { String::new() };
            SceneError::Invalid(format!("{}{tail}", listed.join("; ")))
        }
        other => SceneError::Invalid(other.to_string()),
    })
}

fn load_lights(doc: &gltf::Document) -> Result<Vec<LightDef>, SceneError> {
    let Some(lights) = doc.lights() else { return Ok(Vec::new()) };
    lights
        .map(|light| {
            let fail =
                |problem: &str| SceneError::Light { light: light.index(), problem: problem.into() };
            let color = Vec3::from(light.color());
            let intensity = light.intensity();
            if !color.is_finite()
                || color.min_element() < 0.0
                || !intensity.is_finite()
                || intensity < 0.0
            {
                return Err(fail("its colour or intensity is negative, NaN or infinite"));
            }
            let range = light.range();
            if range.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
                return Err(fail("its range must be a positive finite number"));
            }
            let kind = match light.kind() {
                gltf::khr_lights_punctual::Kind::Directional => {
                    LightKind::Directional { direction: Vec3::NEG_Z }
                }
                gltf::khr_lights_punctual::Kind::Point => LightKind::Point { position: Vec3::ZERO },
                gltf::khr_lights_punctual::Kind::Spot { inner_cone_angle, outer_cone_angle } => {
                    let ok = inner_cone_angle.is_finite()
                        && outer_cone_angle.is_finite()
                        && 0.0 <= inner_cone_angle
                        && inner_cone_angle < outer_cone_angle
                        && outer_cone_angle <= std::f32::consts::FRAC_PI_2;
                    if !ok {
                        return Err(fail(
                            "spot cone angles must satisfy 0 <= inner < outer <= pi/2",
                        ));
                    }
                    LightKind::Spot {
                        position: Vec3::ZERO,
                        direction: Vec3::NEG_Z,
                        inner_cone_angle,
                        outer_cone_angle,
                    }
                }
            };
            Ok(LightDef { kind, color, intensity, range })
        })
        .collect()
}

fn load_cameras(
    order: &[(usize, Option<usize>)],
    nodes: &[gltf::Node],
) -> Result<Vec<CameraNode>, SceneError> {
    let mut cameras = Vec::new();
    for (slot, &(node, _)) in order.iter().enumerate() {
        let Some(camera) = nodes[node].camera() else { continue };
        let index = camera.index();
        let projection = match camera.projection() {
            gltf::camera::Projection::Perspective(p) => {
                let yfov = p.yfov();
                if !(yfov.is_finite() && yfov > 0.0 && yfov < std::f32::consts::PI) {
                    return Err(SceneError::Camera {
                        camera: index,
                        problem: format!("yfov {yfov} is not an angle between 0 and pi radians"),
                    });
                }
                Projection::Perspective { yfov }
            }
            gltf::camera::Projection::Orthographic(_) => Projection::Orthographic,
        };
        let camera_name = camera.name().map(str::to_owned);
        let name = nodes[node]
            .name()
            .map(str::to_owned)
            .or_else(|| camera_name.clone())
            .unwrap_or_else(|| format!("camera {index}"));
        cameras.push(CameraNode { slot, node, camera: index, name, camera_name, projection });
    }
    Ok(cameras)
}

/// The sky from the scene's extras (`{"mosaic_sky": [r, g, b]}`), else the default.
fn scene_sky(scene: &gltf::Scene) -> Result<Vec3, SceneError> {
    let Some(raw) = scene.extras() else { return Ok(DEFAULT_SKY) };
    let bad = || {
        SceneError::Invalid(format!(
            "scene {} extras: mosaic_sky must be [r, g, b], finite and non-negative",
            scene.index()
        ))
    };
    let extras: serde_json::Value = serde_json::from_str(raw.get()).map_err(|_| bad())?;
    let Some(sky) = extras.get("mosaic_sky") else { return Ok(DEFAULT_SKY) };
    let rgb: Vec<f32> = sky
        .as_array()
        .filter(|a| a.len() == 3)
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_f64().map(|x| x as f32).ok_or_else(bad))
        .collect::<Result<_, _>>()?;
    let sky = Vec3::from_slice(&rgb);
    if !sky.is_finite() || sky.min_element() < 0.0 {
        return Err(bad());
    }
    Ok(sky)
}
