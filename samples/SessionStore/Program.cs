// SessionStore: a small shop on ASP.NET Core that shows CachePatterns at work in a web app.
//
// - Catalogue: products read through ICacheStrategy<int, Product> (cache-aside reads, write-through edits by
//   administrators), orders written through ICacheStrategy<string, Order> (write-through; the stock is taken in the same
//   transaction). SQL through Dapper behind IDbConnectionFactory (SQLite by default; PostgreSQL with replicas through the
//   library's read/write router with --postgres "Host=primary:5432,replica:5432;Username=...;Database=...").
// - Sessions: ShopSession over the library's IDistributedCache, so with Redis or memcached every instance sees the same
//   cart and sign-in; the Data Protection key ring is shared through a directory.
// - /Stats (administrators): hit ratio, hits/misses/loads/evictions/provider errors over time and health, read with a MeterListener.
//
// No settings: in-memory cache and a SQLite file, nothing else to install. Switches: --redis host:port,
// --memcached host:port[,host:port], --sqlite file, --postgres "Host=h1:port,h2:port;...", --keys directory, --idle-timeout 00:20:00 (see README.md).

using SessionStore.Configuration;
using SessionStore.Data;
using SessionStore.Security;
using SessionStore.Sessions;
using SessionStore.Statistics;

// The content root is the app's own folder, wherever it is started from (README's `dotnet run --project` runs from the
// repository root): appsettings.json, wwwroot and the default SQLite file are found there.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddCommandLine(args, SessionStoreSettings.SwitchMappings.ToDictionary());
var settings = SessionStoreSettings.Load(builder.Configuration);

builder.Services.AddSingleton(settings);
builder.Services.AddStoreCache(settings).AddStoreDatabase(settings, builder.Environment.ContentRootPath);
builder.Services.AddStoreSecurity(settings);
builder.Services.AddStoreStatistics();
builder.Services.AddRazorPages().AddSessionStateTempDataProvider();

var app = builder.Build();

await app.Services.GetRequiredService<DatabaseStartup>().InitializeAsync(app.Lifetime.ApplicationStopping);
StartupChecks.EnsureKeyRing(app.Services);
StartupChecks.WarnWhenNotShareable(settings, app.Logger);

app.UseMiddleware<SecurityHeadersMiddleware>();
if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error");
}

app.UseStatusCodePagesWithReExecute("/Status/{0}");
app.UseStaticFiles();
app.UseMiddleware<FormSizeLimitMiddleware>((long)settings.Forms.MaxRequestBytes);
app.UseRouting();
if (settings.Database.UsesRouter)
{
    // Read-your-writes per request: a request that wrote reads its writes back, never an older replica's copy.
    app.UseMiddleware<RequestConsistencyMiddleware>();
}

// Loads the session before authentication (the sign-in is bound to it); health probes run without one.
app.UseMiddleware<ShopSessionMiddleware>();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseOutputCache(); // after authentication: signed-in visitors are never served a shared page
app.MapHealthChecks(BackgroundRequests.Health);
app.MapStatistics();
app.MapRazorPages();

await app.RunAsync();
