//! What every page's frame needs: tenant, user, navigation, CSRF token, language, assets.

use crate::assets;
use crate::ctx::Ctx;
use crate::i18n::{Catalog, catalog};
use rathaus_core::permissions as p;

/// `NavItem::any_of` for entries every signed-in user sees, citizens included (e.g. a
/// module's "my bookings"). Citizens hold no permissions, so they see exactly these entries.
pub const ANY_SIGNED_IN: &[&str] = &["*"];

/// `NavItem::any_of` for entries every signed-in staff member sees, but no citizen.
pub const ANY_STAFF: &[&str] = &[];

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label_key: &'static str,
    /// Who sees the entry: holders of any of these permissions; `ANY_STAFF` (empty) every
    /// signed-in staff member; `ANY_SIGNED_IN` every signed-in user, citizens included.
    pub any_of: &'static [&'static str],
}

impl NavItem {
    /// Whether this signed-in user sees the entry.
    pub fn visible_to(&self, u: &rathaus_core::Principal) -> bool {
        if self.any_of.contains(&"*") {
            true
        } else if self.any_of.is_empty() {
            !u.citizen
        } else {
            self.any_of.iter().any(|code| u.has(code))
        }
    }
}

pub fn platform_nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/staff",
            label_key: "nav.dashboard",
            any_of: ANY_SIGNED_IN,
        },
        NavItem {
            href: "/admin/users",
            label_key: "nav.users",
            any_of: &[p::ADMIN_USERS],
        },
        NavItem {
            href: "/admin/roles",
            label_key: "nav.roles",
            any_of: &[p::ADMIN_ROLES],
        },
        NavItem {
            href: "/admin/departments",
            label_key: "nav.departments",
            any_of: &[p::ADMIN_DEPARTMENTS],
        },
        NavItem {
            href: "/admin/audit",
            label_key: "nav.audit",
            any_of: &[p::ADMIN_AUDIT],
        },
        NavItem {
            href: "/admin/jobs",
            label_key: "nav.jobs",
            any_of: &[p::ADMIN_JOBS],
        },
        NavItem {
            href: "/admin/settings",
            label_key: "nav.settings",
            any_of: &[p::ADMIN_SETTINGS],
        },
    ]
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct Layout {
    pub t: &'static Catalog,
    pub title: String,
    pub tenant_name: String,
    pub user_name: Option<String>,
    pub nav: Vec<NavLink>,
    pub csrf: String,
    pub notice: Option<String>,
    pub path: String,
    pub css: &'static str,
    pub js: &'static str,
    /// `live.js`: refreshes `data-live` elements; loaded for signed-in users only.
    pub live_js: Option<&'static str>,
    /// `upload.js`: drag and drop onto file fields marked `data-drop`; signed-in users only.
    pub upload_js: Option<&'static str>,
    pub wappen: String,
    /// The search field in the header (staff, not citizens).
    pub search_field: bool,
}

impl Layout {
    pub fn new(ctx: &Ctx, nav: &[NavItem], title_key: &str) -> Layout {
        let t = catalog(ctx.lang);
        let mut l = Layout::bare(
            t,
            ctx.tenant
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            ctx.csrf.clone(),
            &ctx.path,
        );
        l.title = t.get(title_key).to_string();
        if let Some(sha) = ctx
            .tenant
            .as_ref()
            .and_then(|t| t.coat_of_arms_sha256.as_ref())
        {
            l.wappen = format!("/wappen/{sha}.png");
        }
        if let Some(u) = ctx.staff() {
            l.user_name = Some(u.name.clone());
            l.live_js = Some(assets::url("live.js"));
            l.upload_js = Some(assets::url("upload.js"));
            l.search_field = !u.citizen;
            l.nav = nav
                .iter()
                .filter(|i| i.visible_to(u))
                .map(|i| NavLink {
                    href: i.href,
                    label: t.get(i.label_key),
                    current: ctx.path == i.href
                        || (i.href != "/staff" && ctx.path.starts_with(&format!("{}/", i.href))),
                })
                .collect();
        }
        // Only known notice keys are shown: the query string cannot inject text.
        l.notice = ctx.notice.as_deref().and_then(|k| {
            let key = format!("notice.{k}");
            let v = t.get(&key);
            (v != key).then(|| v.to_string())
        });
        l
    }

    /// A frame without user or navigation, for error pages before a context exists.
    pub fn bare(t: &'static Catalog, tenant_name: String, csrf: String, path: &str) -> Layout {
        Layout {
            t,
            title: String::new(),
            tenant_name,
            user_name: None,
            nav: vec![],
            csrf,
            notice: None,
            path: path.to_string(),
            css: assets::url("style.css"),
            js: assets::url("vendor/htmx.min.js"),
            live_js: None,
            upload_js: None,
            wappen: assets::url("wappen.svg").to_string(),
            search_field: false,
        }
    }

    pub fn tr<'a>(&'a self, key: &'a str) -> &'a str {
        self.t.get(key)
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }
}
