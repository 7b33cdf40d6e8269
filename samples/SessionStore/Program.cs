// SessionStore: a small shop on ASP.NET Core that shows CachePatterns at work in a web app.
//
// - Catalogue: products read through ICacheStrategy<int, Product> (cache-aside reads, write-through edits),
//   SQL through Dapper behind IDbConnectionFactory (SQLite by default; PostgreSQL with replicas through the
//   library's read/write router with --postgres "Host=primary:5432,replica:5432;Username=...;Database=...").
// - Sessions: ASP.NET Core's session over the library's IDistributedCache, so with Redis or memcached every
//   instance sees the same cart and sign-in; the Data Protection key ring is shared through a directory.
// - /Stats: hit ratio, hits/misses/loads over time, evictions and health, read with a MeterListener.
//
// No settings: in-memory cache and a SQLite file, nothing else to install. Switches: --redis host:port,
// --memcached host:port[,host:port], --sqlite file, --postgres "Host=h1:port,h2:port;...", --keys directory, --idle-timeout 00:20:00 (see README.md).

using SessionStore.Configuration;
using SessionStore.Data;
using SessionStore.Security;
using SessionStore.Statistics;

var builder = WebApplication.CreateBuilder(args);
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

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error");
}

app.UseStatusCodePagesWithReExecute("/Status/{0}");
app.UseMiddleware<FormSizeLimitMiddleware>((long)settings.Forms.MaxRequestBytes);
app.UseRouting();
if (settings.Database.UsesRouter)
{
    // Read-your-writes per request: a request that wrote reads its writes back, never an older replica's copy.
    app.UseMiddleware<RequestConsistencyMiddleware>();
}


// The statistics page's once-a-second poll and health probes are not user activity: they neither load nor renew
// the session or the sign-in, so an open statistics tab does not keep a session alive past its idle timeout.
app.UseWhen(context => !BackgroundRequests.Matches(context.Request.Path), user => user.UseSession());
app.UseAuthentication();
app.UseAuthorization();
app.MapHealthChecks(BackgroundRequests.Health);
app.MapStatistics();
app.MapRazorPages();

await app.RunAsync();
