//! The tenant's coat of arms: uploads are validated by content, re-encoded and scaled; bad
//! files get a German message beside the field; only `admin.settings` may change it.

use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture};
use rathaus_web::WebConfig;
use reqwest::multipart::{Form, Part};

const HOST: &str = "rathaus.w.test";

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(w, h, image::Rgba([200, 30, 30, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

async fn upload(c: &reqwest::Client, base: &str, bytes: Vec<u8>, name: &str) -> reqwest::Response {
    let page = c
        .get(format!("{base}/admin/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let form = Form::new().part("wappen", Part::bytes(bytes).file_name(name.to_string()));
    c.post(format!("{base}/admin/settings/wappen?_csrf={csrf}"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn upload_replace_and_refuse_bad_files() {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "w", HOST).await;
    let app = TestApp::spawn(tdb, WebConfig::default()).await;
    let base = app.url(HOST, "");
    let admin = app.client(&[HOST]);
    login(&admin, &base, &f.admin_email, PASSWORD).await;

    // A PDF named .png is refused by its content; nothing changes.
    let r = upload(
        &admin,
        &base,
        b"%PDF-1.7\n1 0 obj <<>> endobj".to_vec(),
        "wappen.png",
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("class=\"field-error\"") && html.contains("PNG, JPEG oder WebP"),
        "{html}"
    );
    // A truncated PNG.
    let mut broken = png(64, 64);
    broken.truncate(broken.len() / 2);
    assert_eq!(upload(&admin, &base, broken, "w.png").await.status(), 422);
    // Too many pixels.
    let r = upload(&admin, &base, png(4100, 20), "w.png").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("zu groß"));
    let t = rathaus_store::tenants::get(&app.db.conn, f.tenant)
        .await
        .unwrap();
    assert!(t.coat_of_arms_sha256.is_none());

    // A good picture is re-encoded, scaled to 256 px and shown on every page.
    let r = upload(&admin, &base, png(600, 300), "wappen.png").await;
    assert_eq!(r.status(), 303);
    let t = rathaus_store::tenants::get(&app.db.conn, f.tenant)
        .await
        .unwrap();
    let sha = t.coat_of_arms_sha256.expect("stored");
    let home = app
        .client(&[HOST])
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains(&format!("/wappen/{sha}.png")));
    let img = app
        .client(&[HOST])
        .get(format!("{base}/wappen/{sha}.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(img.headers()["content-type"], "image/png");
    let decoded = image::load_from_memory(&img.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 128));

    // Upload without the CSRF token: 403. A clerk: 403. Anonymous: login redirect.
    let r = admin
        .post(format!("{base}/admin/settings/wappen"))
        .multipart(Form::new().part("wappen", Part::bytes(png(10, 10)).file_name("x.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let clerk = app.client(&[HOST]);
    login(&clerk, &base, &f.clerk_email, PASSWORD).await;
    let page = clerk
        .get(format!("{base}/staff"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let r = clerk
        .post(format!("{base}/admin/settings/wappen?_csrf={csrf}"))
        .multipart(Form::new().part("wappen", Part::bytes(png(10, 10)).file_name("x.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let after = rathaus_store::tenants::get(&app.db.conn, f.tenant)
        .await
        .unwrap();
    assert_eq!(
        after.coat_of_arms_sha256.as_deref(),
        Some(sha.as_str()),
        "unchanged by refused uploads"
    );
}
